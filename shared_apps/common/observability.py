"""Observability: request ids, log context, JSON logs without personal data, Sentry, metrics.

What every log line carries (added when the record is created, so caplog sees it too):
``request_id`` (the proxy's ``X-Request-ID``, or one made here, echoed in the response),
``commune`` and ``commune_id`` (the slug and id of the commune the request or task runs in),
``user_id`` (only when the request already knows its user: logging never loads one), and in
Celery ``task_id`` and ``task``. Never a name, an e-mail, an IBAN or a token: those are not
context fields, and the JSON formatter and Sentry's ``before_send`` blank any that a message or
an exception happens to contain (``redact``).

Metrics (Prometheus, ``/metrics``, internal network or ``METRICS_TOKEN`` only):
django-prometheus counts requests and their latency per *view name* (``bookings:calendar``,
never a raw path, so no slug or id becomes a label); Celery signals count task runs and
failures per task name; the money flows are read from the ledger (``MoneyFlowCollector``),
platform-wide per kind of movement. Not per commune: see deploy/README.md, "Observability".
"""

from __future__ import annotations

import contextvars
import datetime
import hmac
import ipaddress
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import resolve
from django.utils.functional import empty

REQUEST_ID_HEADER = "X-Request-ID"
# nginx's $request_id is 32 hex digits, ingress-nginx's too; a UUID fits. Anything else (too
# long, spaces, quotes) is replaced, so a client cannot write what it likes into our logs.
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{8,128}")
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "marelle_request", default=None
)
_task: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "marelle_task", default=None
)

request_logger = logging.getLogger("marelle.request")

# --- Personal data never written ----------------------------------------------------------------
_REDACTIONS = [
    # e-mail addresses
    (re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[e-mail]"),
    # IBANs, grouped by four or not (FR76 3000 6000 0112 3456 7890 189)
    (re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), "[iban]"),
    # bearer tokens, Stripe keys and secrets
    (re.compile(r"(?i)\bbearer\s+[^\s,;]+"), "Bearer [token]"),
    (re.compile(r"\b(?:sk|pk|rk|whsec|seti|pi|pm)_[A-Za-z0-9_]{8,}"), "[secret]"),
]
_TOKEN_SEGMENT = re.compile(r"/[A-Za-z0-9_\-:.]{20,}(?=/|\.ics|$|\?)")


def redact(text: str) -> str:
    """The text with e-mails, IBANs, bearer tokens and Stripe secrets replaced by a tag."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def redact_path(path: str) -> str:
    """A path without its secret segments (verification links, calendar feeds: long tokens)."""
    return _TOKEN_SEGMENT.sub("/[token]", redact(path.split("?", 1)[0]))


# --- Context of the current request or task -----------------------------------------------------
def _known_user_id(request: HttpRequest) -> int | None:
    """The user id if the request already loaded its user; logging never queries for it."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)  # django's SimpleLazyObject, evaluated or not
    if wrapped is None or wrapped is empty:  # lazy and not evaluated yet
        return None
    if not getattr(wrapped, "is_authenticated", False):
        return None
    return getattr(wrapped, "pk", None)


def _current_tenant(request: HttpRequest | None) -> Any:
    if request is not None:
        return getattr(request, "tenant", None)
    try:
        from django.db import connection

        tenant = getattr(connection, "tenant", None)
    except Exception:  # settings not loaded yet: no commune to name
        return None
    return tenant if getattr(tenant, "slug", None) else None


def log_context() -> dict[str, Any]:
    """The fields every log record carries (None where unknown)."""
    request = _request.get()
    task = _task.get()
    tenant = _current_tenant(request)
    return {
        "request_id": getattr(request, "request_id", None),
        "commune": getattr(tenant, "slug", None),
        "commune_id": getattr(tenant, "pk", None),
        "user_id": _known_user_id(request) if request is not None else None,
        "task_id": task[0] if task else None,
        "task": task[1] if task else None,
    }


CONTEXT_FIELDS = ("request_id", "commune", "commune_id", "user_id", "task_id", "task")
_base_record_factory: Callable[..., logging.LogRecord] | None = None


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _base_record_factory is not None
    record = _base_record_factory(*args, **kwargs)
    try:
        context = log_context()
    except Exception:  # a log call must never fail because of its context
        context = dict.fromkeys(CONTEXT_FIELDS)
    record.__dict__.update(context)
    return record


def install_log_context() -> None:
    """Every record created from now on carries log_context() (idempotent)."""
    global _base_record_factory
    if _base_record_factory is None:
        _base_record_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_record_factory)


class RequestContextMiddleware:
    """First middleware: names the request (X-Request-ID), logs one line per request.

    The line has the method, the *route* (the URL pattern, no values: ids, slugs and tokens stay
    out of the logs), the status and the duration; probes are logged at DEBUG only.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = (  # type: ignore[attr-defined]
            incoming if _REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        )
        token = _request.set(request)
        started = time.monotonic()
        try:
            if request.path_info in PROBE_PATHS:
                # Probes and scrapes are answered here, before the host check and the https
                # redirect: the kubelet and Prometheus call a pod by its address, over http.
                request.resolver_match = resolve(request.path_info)
                response = request.resolver_match.func(request)
            else:
                response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
            match = getattr(request, "resolver_match", None)
            request_logger.log(
                logging.DEBUG if request.path_info in PROBE_PATHS else logging.INFO,
                "%s %s %s",
                request.method,
                getattr(match, "route", None) or "unmatched",
                response.status_code,
                extra={
                    "http_method": request.method,
                    "route": getattr(match, "route", None) or "unmatched",
                    "view": getattr(match, "view_name", None),
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _request.reset(token)


# --- Log formatting -----------------------------------------------------------------------------
def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    return value


try:
    from pythonjsonlogger.json import JsonFormatter as _JsonFormatter
except ImportError:  # python-json-logger < 3.1
    from pythonjsonlogger.jsonlogger import JsonFormatter as _JsonFormatter  # type: ignore


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, the context fields and any extra
    fields, every string passed through ``redact``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "fmt", ["asctime", "levelname", "name", "message", *CONTEXT_FIELDS, "process"]
        )
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level"})
        kwargs.setdefault("rename_fields_keep_missing", True)
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
            timespec="milliseconds"
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: _redact_value(value) for key, value in log_data.items()}


class TextFormatter(logging.Formatter):
    """The demo's and tests' readable lines, with the request id and commune when known."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s commune=%(commune)s "
            "user=%(user_id)s task=%(task_id)s] %(message)s"
        )

    def format(self, record: logging.LogRecord) -> str:
        for field in CONTEXT_FIELDS:
            if not hasattr(record, field):
                setattr(record, field, None)
        return redact(super().format(record))


def logging_config(*, level: str, json: bool, access_log: bool) -> dict[str, Any]:
    """settings.LOGGING: everything to stdout, JSON in production (LOG_FORMAT=json|text)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "shared_apps.common.observability.JsonFormatter"},
            "text": {"()": "shared_apps.common.observability.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json" if json else "text",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "marelle.request": {"level": "INFO" if access_log else "WARNING"},
            # Celery's own lines ("Task … succeeded") keep their level; ours above.
            "celery": {"level": os.environ.get("CELERY_LOG_LEVEL", "INFO").upper()},
        },
    }


# --- Sentry -------------------------------------------------------------------------------------
_SENTRY_HEADERS_KEPT = {"content-type", "accept", "x-request-id", "user-agent", "content-length"}


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send: the event keeps the user's id only, no body, cookie, query string
    or header other than a few technical ones, and its texts are passed through ``redact``."""
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if user.get("id") is not None else {}
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("cookies", "data", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                k: v for k, v in headers.items() if k.lower() in _SENTRY_HEADERS_KEPT
            }
        if isinstance(request.get("url"), str):
            request["url"] = redact_path(request["url"])
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = redact(exception["value"])
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = redact(logentry[key])
        logentry["params"] = []
    if isinstance(event.get("message"), str):
        event["message"] = redact(event["message"])
    breadcrumbs = event.get("breadcrumbs")
    crumbs = breadcrumbs.get("values") if isinstance(breadcrumbs, dict) else breadcrumbs
    for crumb in crumbs or []:
        if isinstance(crumb.get("message"), str):
            crumb["message"] = redact(crumb["message"])
        crumb.pop("data", None)
    event["extra"] = _redact_value(event.get("extra") or {})
    return event


def init_sentry(environ: dict[str, str] | None = None, *, environment: str = "production") -> bool:
    """Start the Sentry SDK when SENTRY_DSN is set; return whether it was started.

    send_default_pii stays False (no IP address, cookie or user e-mail is collected), local
    variables are not sent, and every event goes through ``scrub_event``.
    """
    environ = os.environ if environ is None else environ
    dsn = environ.get("SENTRY_DSN", "").strip()
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environ.get("SENTRY_ENVIRONMENT") or environment,
        release=environ.get("MARELLE_RELEASE") or None,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        traces_sample_rate=float(environ.get("SENTRY_TRACES_SAMPLE_RATE") or 0),
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True


# --- Prometheus ---------------------------------------------------------------------------------
def _prometheus() -> Any:
    import prometheus_client

    return prometheus_client


_task_metrics: dict[str, Any] = {}


def task_metrics() -> dict[str, Any]:
    """Counters of Celery task runs and failures, labelled by task name (a bounded set)."""
    if not _task_metrics:
        prometheus = _prometheus()
        _task_metrics["runs"] = prometheus.Counter(
            "marelle_celery_tasks", "Celery task runs by task and final state.", ["task", "state"]
        )
        _task_metrics["failures"] = prometheus.Counter(
            "marelle_celery_task_failures", "Celery tasks that raised, by task.", ["task"]
        )
        _task_metrics["retries"] = prometheus.Counter(
            "marelle_celery_task_retries", "Celery task retries, by task.", ["task"]
        )
    return _task_metrics


_task_tokens: dict[str, contextvars.Token] = {}


def _on_task_prerun(sender: Any = None, task_id: str | None = None, **_: Any) -> None:
    name = getattr(sender, "name", None) or "unknown"
    _task_tokens[task_id or ""] = _task.set((task_id or "", name))


def _on_task_postrun(
    sender: Any = None, task_id: str | None = None, state: str | None = None, **_: Any
) -> None:
    name = getattr(sender, "name", None) or "unknown"
    task_metrics()["runs"].labels(task=name, state=state or "UNKNOWN").inc()
    if state == "FAILURE":
        task_metrics()["failures"].labels(task=name).inc()
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        try:
            _task.reset(token)
        except ValueError:  # reset from another context: just clear
            _task.set(None)


def _on_task_retry(sender: Any = None, **_: Any) -> None:
    task_metrics()["retries"].labels(task=getattr(sender, "name", None) or "unknown").inc()


def _on_worker_ready(**_: Any) -> None:
    """In a worker, serve its metrics on CELERY_METRICS_PORT (prefork children aggregated)."""
    port = os.environ.get("CELERY_METRICS_PORT", "").strip()
    if not port:
        return
    prometheus = _prometheus()
    registry = prometheus.CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus.REGISTRY
    address = os.environ.get("CELERY_METRICS_ADDRESS", "0.0.0.0")  # a pod: every interface
    prometheus.start_http_server(int(port), addr=address, registry=registry)


def connect_celery_signals() -> None:
    """Task context in logs (task id, commune) and task metrics (idempotent)."""
    from celery import signals

    signals.task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="marelle-log-prerun")
    signals.task_postrun.connect(_on_task_postrun, weak=False, dispatch_uid="marelle-postrun")
    signals.task_retry.connect(_on_task_retry, weak=False, dispatch_uid="marelle-retry")
    signals.worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid="marelle-metrics")


MONEY_FLOW_KINDS = {
    # ledger transaction kind → the flow it is (README: "Observability")
    "top_up": "top_up",
    "counter_credit": "counter_credit",
    "spend": "spending",
    "refund": "refund",
    "card_refund": "card_refund",
    "charge": "direct_debit_charge",
    "charge_credit": "direct_debit_charge_cancelled",
    "collection": "invoice_collection",
}


class MoneyFlowCollector:
    """The ledger's money flows since the platform began, in cents, per kind of movement.

    Read from the ledger at scrape time (so a top-up credited by a Celery worker counts as
    much as one made in a web request, and the figure is the ledger's): each transaction's
    amount is the sum of its positive postings. Days before yesterday (UTC) are summed once a
    day and kept in the shared cache; the last day and a half is summed at each scrape from
    the ledger's created_at index. Platform-wide, not per commune (see deploy/README.md).
    """

    cache_seconds = 60

    def _totals(self, since: datetime.datetime | None, until: datetime.datetime) -> dict:
        from django.db import connection

        where = ["p.amount_cents > 0", "t.created_at < %s"]
        params: list[Any] = [until]
        if since is not None:
            where.append("t.created_at >= %s")
            params.append(since)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.kind, COUNT(DISTINCT t.id), COALESCE(SUM(p.amount_cents), 0) "
                "FROM public.wallet_posting p "
                "JOIN public.wallet_ledgertransaction t ON t.id = p.transaction_id "
                f"WHERE {' AND '.join(where)} GROUP BY t.kind",
                params,
            )
            return {kind: (count, cents) for kind, count, cents in cursor.fetchall()}

    def totals(self) -> dict[str, tuple[int, int]]:
        from django.core.cache import caches

        now = datetime.datetime.now(tz=datetime.UTC)
        boundary = datetime.datetime.combine(
            now.date() - datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC
        )
        cache = caches["default"]
        key = f"metrics:money-flows:closed:{boundary.date().isoformat()}"
        closed = cache.get(key)
        if closed is None:
            closed = self._totals(None, boundary)
            cache.set(key, closed, 2 * 24 * 3600)
        recent = self._totals(boundary, now + datetime.timedelta(minutes=1))
        flows: dict[str, tuple[int, int]] = {}
        for kind, (count, cents) in [*closed.items(), *recent.items()]:
            flow = MONEY_FLOW_KINDS.get(kind, kind)
            previous = flows.get(flow, (0, 0))
            flows[flow] = (previous[0] + count, previous[1] + cents)
        return flows

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily

        cents = CounterMetricFamily(
            "marelle_money_flow_cents",
            "Money moved through the ledger since the start, in cents, by flow (platform-wide).",
            labels=["flow"],
        )
        count = CounterMetricFamily(
            "marelle_money_flow_transactions",
            "Ledger transactions since the start, by flow (platform-wide).",
            labels=["flow"],
        )
        try:
            totals = self.totals()
        except Exception:  # the database is down: /readyz says so; metrics still answer
            logging.getLogger(__name__).warning("money flow metrics unavailable", exc_info=True)
            totals = {}
        for flow in sorted(set(MONEY_FLOW_KINDS.values()) | set(totals)):
            n, amount = totals.get(flow, (0, 0))
            cents.add_metric([flow], amount)
            count.add_metric([flow], n)
        yield cents
        yield count


def metrics_text() -> bytes:
    """The exposition text: this process's (or, under gunicorn/celery prefork with
    PROMETHEUS_MULTIPROC_DIR, all processes') metrics, then the ledger's money flows."""
    prometheus = _prometheus()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = prometheus.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus.REGISTRY
    money = prometheus.CollectorRegistry()
    money.register(MoneyFlowCollector())
    return prometheus.generate_latest(registry) + prometheus.generate_latest(money)


def metrics_allowed(request: HttpRequest) -> bool:
    """Who may read /metrics.

    With METRICS_TOKEN set: a request carrying ``Authorization: Bearer <token>``, from anywhere.
    Without: only a direct connection from a private or loopback address (Prometheus inside
    the cluster or the compose network). A request that came through our proxy (nginx, the
    ingress) always carries X-Forwarded-For and is refused, whatever its peer address.
    """
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in INTERNAL_NETWORKS)


# RFC 1918, loopback, carrier-grade NAT (some clusters' pod ranges), IPv6 unique-local.
INTERNAL_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "100.64.0.0/10",
        "::1/128",
        "fc00::/7",
    )
]


def install() -> None:
    """Called once from the common app's ready(): log context and Celery signals."""
    install_log_context()
    connect_celery_signals()
