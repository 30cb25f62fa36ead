"""Every run of a scheduled job is recorded in JobRun through Celery's task signals.

A job is a task declared with `shared_apps.jobs.scheduling.job_task` (it carries
`records_job_run`). Its run is one row keyed by the Celery task id: running on entry, retrying
when Celery schedules another attempt, then succeeded or failed. A failure is never silent: the
row, an error log line and, when JOBS_ALERT_EMAILS is set, an e-mail to the operators.
"""

from __future__ import annotations

import logging
import re

from celery import signals
from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError
from django.utils import timezone

from shared_apps.jobs.models import JobRun, JobStatus
from tenants.models import Commune

logger = logging.getLogger("marelle.jobs")

_EMAIL = re.compile(r"[^\s@<>()\"']+@[^\s@<>()\"']+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{1,4}){3,8}\b")
MESSAGE_MAX = 300


class JobFindings(Exception):
    """A check found something wrong (ledger, reconciliation): reported, never retried.

    `details` are short lines of ids, states and amounts in cents, never names or addresses.
    """

    def __init__(self, summary: str, details: list[str] | tuple[str, ...] = ()):
        super().__init__(summary, list(details))  # both in args: it pickles back whole
        self.summary = summary
        self.details = list(details)

    def __str__(self) -> str:
        return self.summary


def error_summary(exc: BaseException) -> tuple[str, str]:
    """(exception class, message) safe to show operators: the first line only (a database
    error's DETAIL line quotes row values), e-mail addresses and IBANs masked, 300 characters."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = _IBAN.sub("<iban>", _EMAIL.sub("<e-mail>", text))
    return type(exc).__name__, text[:MESSAGE_MAX]


def _is_job(task) -> bool:
    return bool(getattr(task, "records_job_run", False))


def _schema_of(task, args) -> str:
    if getattr(task, "tenant_job", False) and args:
        return str(args[0])
    return ""


def _commune_id(schema_name: str) -> int | None:
    if not schema_name:
        return None
    return Commune.objects.filter(schema_name=schema_name).values_list("pk", flat=True).first()


def _record(task, task_id: str, args, **fields) -> None:
    """Update the run's row, or create it (a quiet job's first retry or failure)."""
    if JobRun.objects.filter(task_id=task_id).update(**fields):
        return
    schema_name = _schema_of(task, args)
    JobRun.objects.get_or_create(
        task_id=task_id,
        defaults={
            "task_name": task.name,
            "schema_name": schema_name,
            "commune_id": _commune_id(schema_name),
            "started_at": timezone.now(),
            **fields,
        },
    )


def _on_prerun(sender=None, task_id=None, task=None, args=None, **_):
    if not _is_job(task):
        return
    attempts = (task.request.retries or 0) + 1
    if attempts == 1 and not getattr(task, "records_success", True):
        return  # a frequent sub-task: recorded only when it retries or fails
    _record(task, task_id, args, status=JobStatus.RUNNING, attempts=attempts, finished_at=None)


def _on_success(sender=None, **_):
    if not _is_job(sender):
        return
    JobRun.objects.filter(task_id=sender.request.id).update(
        status=JobStatus.SUCCEEDED, finished_at=timezone.now()
    )


def _on_retry(sender=None, request=None, reason=None, **_):
    if not _is_job(sender) or request is None:
        return
    reason = getattr(reason, "exc", None) or reason  # a Retry carries the exception that failed
    error_class, message = error_summary(reason) if isinstance(reason, BaseException) else ("", "")
    _record(
        sender,
        request.id,
        request.args,
        status=JobStatus.RETRYING,
        attempts=(request.retries or 0) + 1,
        error_class=error_class,
        error_message=message,
    )
    logger.warning(
        "job %s will be retried (attempt %s failed): %s",
        sender.name,
        (request.retries or 0) + 1,
        error_class,
    )


def _on_failure(sender=None, task_id=None, exception=None, args=None, **_):
    if not _is_job(sender):
        return
    error_class, message = error_summary(exception) if exception is not None else ("", "")
    details = list(getattr(exception, "details", []))[:200]
    schema_name = _schema_of(sender, args)
    try:
        _record(
            sender,
            task_id,
            args,
            attempts=(sender.request.retries or 0) + 1,
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            error_class=error_class,
            error_message=message,
            details=details,
        )
    except DatabaseError:  # the log line and the e-mail below still tell someone
        logger.exception("job %s: its failure could not be recorded", sender.name)
    logger.error(
        "job %s failed%s: %s: %s",
        sender.name,
        f" in {schema_name}" if schema_name else "",
        error_class,
        message,
        # (task_id is already on every record in a task: the log context adds it)
        extra={"job": sender.name, "schema_name": schema_name},
    )
    alert_operators(
        task_name=sender.name,
        schema_name=schema_name,
        error=f"{error_class}: {message}",
        details=details,
    )


def alert_operators(*, task_name: str, schema_name: str, error: str, details: list[str]) -> None:
    """Mail the operators (settings.JOBS_ALERT_EMAILS, none: no mail) about a failed job."""
    recipients = list(getattr(settings, "JOBS_ALERT_EMAILS", []) or [])
    if not recipients:
        return
    where = f" ({schema_name})" if schema_name else ""
    body = "\n".join(
        [
            f"La tâche {task_name}{where} a échoué.",
            "",
            error,
            *details[:50],
            "",
            "Détail : /operateur/taches/",
        ]
    )
    try:
        send_mail(f"[Marelle] Tâche échouée : {task_name}{where}", body, None, recipients)
    except Exception:  # an SMTP failure must not hide the job's own failure
        logger.exception("job %s: the operators could not be mailed", task_name)


def connect_signals() -> None:
    """Listen to Celery's task signals (called once, from the app's ready())."""
    signals.task_prerun.connect(_on_prerun, dispatch_uid="jobs-prerun")
    signals.task_success.connect(_on_success, dispatch_uid="jobs-success")
    signals.task_retry.connect(_on_retry, dispatch_uid="jobs-retry")
    signals.task_failure.connect(_on_failure, dispatch_uid="jobs-failure")
