"""Readiness: can this process serve? (``/readyz``; liveness, ``/healthz``, checks nothing.)

Three checks, each cheap and independent of the number of communes:

- the database answers ``SELECT 1``;
- the Celery broker answers (only when one is configured: without ``REDIS_URL`` tasks run in
  the process and there is nothing to reach);
- the migrations this code knows are applied in the public schema and in the template schema
  that new communes are made from (one query for both; the communes' own schemas are migrated
  by ``migrate_platform`` before a release is rolled out, and checking 1,000 schemas on every
  probe would cost more than the probe is worth).

The result is kept ``READINESS_CACHE_SECONDS`` (5 s) in the process, so a probe every few
seconds from several sources costs at most one round of checks per interval.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    """Each check's outcome ("ok", "not configured", or what failed) and the verdict."""

    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(v in ("ok", "not configured") for v in self.checks.values())


def database_connection() -> Any:
    """The connection the checks use (a test points it at an unreachable server)."""
    return connection


def check_database() -> str:
    with database_connection().cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def broker_url() -> str:
    """The Celery broker, or "" when tasks run in the process (no REDIS_URL)."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return ""
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    return "" if url.startswith("memory://") else url


def check_broker() -> str:
    url = broker_url()
    if not url:
        return "not configured"
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    from kombu import Connection

    with Connection(url, connect_timeout=2) as broker:
        broker.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@functools.cache
def expected_migrations() -> frozenset[tuple[str, str]]:
    """The latest migration of each app, as this code has them (read from disk once)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(loader.graph.leaf_nodes())


def check_migrations() -> str:
    """Every app's latest migration is recorded in public and in the template schema."""
    from django_tenants.utils import get_public_schema_name

    public = get_public_schema_name()
    template = getattr(settings, "TENANT_BASE_SCHEMA", "") or ""
    schemas = [public, *([template] if template else [])]
    sql = " UNION ALL ".join(
        f"SELECT %s, app, name FROM {connection.ops.quote_name(schema)}.django_migrations"
        for schema in schemas
    )
    with database_connection().cursor() as cursor:
        cursor.execute(sql, schemas)
        applied = {(schema, app, name) for schema, app, name in cursor.fetchall()}
    missing = sorted(
        f"{schema}:{app}.{name}"
        for schema in schemas
        for app, name in expected_migrations()
        if (schema, app, name) not in applied
    )
    if missing:
        return "missing " + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "broker": check_broker,
    "migrations": check_migrations,
}

_lock = threading.Lock()
_cached: tuple[float, Readiness] | None = None


def _run(name: str, check: Callable[[], str]) -> str:
    try:
        return check()
    except Exception as exc:  # any failure means "not ready"; say which, without secrets
        logger.warning("readiness check %s failed: %s", name, type(exc).__name__, exc_info=True)
        return f"failed: {type(exc).__name__}"


def readiness(*, fresh: bool = False) -> Readiness:
    """Run the checks (the database's first: the migrations check needs it), or return the
    result of the last run if it is younger than READINESS_CACHE_SECONDS."""
    global _cached
    ttl = float(getattr(settings, "READINESS_CACHE_SECONDS", 5))
    with _lock:
        if not fresh and _cached is not None and time.monotonic() - _cached[0] < ttl:
            return _cached[1]
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name == "migrations" and results.get("database") != "ok":
            results[name] = "skipped: database unreachable"
            continue
        results[name] = _run(name, check)
    result = Readiness(results)
    with _lock:
        _cached = (time.monotonic(), result)
    return result


def forget() -> None:
    """Drop the cached result (tests)."""
    global _cached
    with _lock:
        _cached = None
