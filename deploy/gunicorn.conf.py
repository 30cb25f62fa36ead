"""Gunicorn settings for Marelle in production: `gunicorn --config deploy/gunicorn.conf.py`.

Sync workers on purpose: WSGI only (the async ORM loses the tenant's schema), one request per
process, one database connection per worker. The reverse proxy in front (nginx, an ingress)
buffers slow clients, so sync workers are not tied up by them.

Environment:
  PORT                  listen port (8000)
  WEB_CONCURRENCY       worker processes (default 2 × CPUs + 1, CPUs read from the cgroup quota)
  GUNICORN_TIMEOUT      seconds before a silent worker is killed and replaced (60)
  GUNICORN_MAX_REQUESTS recycle a worker after this many requests (1000, 0 disables)
  FORWARDED_ALLOW_IPS   addresses of the trusted proxy, comma-separated ("127.0.0.1,::1")
  GUNICORN_LOG_LEVEL    error log level (info)
"""

from __future__ import annotations

import math
import os


def _cpu_count() -> int:
    """CPUs this container may use: the cgroup v2 quota when set, else the affinity mask."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "config.wsgi:application"
bind = f"0.0.0.0:{_int_env('PORT', 8000)}"

# Each worker is a full Django process (65–80 MB RSS after start, measured; more under load)
# holding at most one PostgreSQL connection (CONN_MAX_AGE=60): size WEB_CONCURRENCY × replicas
# against the database's connection budget.
workers = _int_env("WEB_CONCURRENCY", 2 * _cpu_count() + 1)
worker_class = "sync"
threads = 1

timeout = _int_env("GUNICORN_TIMEOUT", 60)  # keep nginx's proxy_read_timeout at least this long
graceful_timeout = 30  # SIGTERM (rolling update): finish in-flight requests first
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# Heartbeat files in memory, not on the container's overlay filesystem (avoids worker stalls).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# The runtime control socket (gunicorn ≥ 25) is not used; ignored by older versions.
control_socket_disable = True

# Requests come from the reverse proxy only. Gunicorn sets wsgi.url_scheme from
# X-Forwarded-Proto only when the peer is listed here; Django reads the same header
# (SECURE_PROXY_SSL_HEADER), so the app port must never be reachable except through the proxy.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Logs to stdout/stderr for the container runtime. No gunicorn access log by default: Django
# writes one JSON line per request (shared_apps/common/observability.py) with the request id,
# the route pattern, the commune and the user id, while gunicorn's line would carry the raw path
# and query string (calendar-feed secrets, verification tokens, a search for a family's name).
# GUNICORN_ACCESS_LOG=1 turns it back on, without the query string.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "") in {"1", "true", "yes"} else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-request-id}i)s %(t)s "%(m)s" %(s)s %(b)s %(M)sms'


def child_exit(server, worker):
    """A worker's Prometheus files are merged into the totals when it exits (multiprocess)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
