"""How a scheduled job is declared: retried with exponential backoff, recorded in JobRun, and
fanned out to one sub-task per commune that takes jobs."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from shared_apps.jobs.recording import JobFindings
from tenants.models import Commune

# Seconds: 60, 120, 240, 480 (jittered, at most an hour), then the run is recorded as failed.
RETRY_OPTIONS = {
    "autoretry_for": (Exception,),
    "dont_autoretry_for": (JobFindings,),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 4,
}


def job_task(*, tenant: bool = False, **options) -> Callable:
    """Decorator for a scheduled job's Celery task.

    tenant=True: the task's first argument is the commune's schema name and it runs in that
    schema (config.celery.TenantTask). Every job is retried with backoff (RETRY_OPTIONS, except
    on JobFindings: a check's findings do not change by retrying) and recorded in JobRun.
    """
    from config.celery import TenantTask, app

    task_options = {**RETRY_OPTIONS, "records_job_run": True, "tenant_job": tenant, **options}
    if tenant:
        task_options["base"] = TenantTask
    return app.task(**task_options)


def communes_for_jobs() -> QuerySet[Commune]:
    """The communes scheduled jobs visit: active ones not suspended (an operator's suspension,
    tenants.services.suspend_commune; a run queued before it checks again when it runs), in a
    stable order."""
    return Commune.objects.filter(is_active=True, suspended_at__isnull=True).order_by("pk")


def enqueue_job(task, *args) -> None:
    """Queue a job's run. Without a broker (tests, demo: tasks run eagerly) it runs here as a
    worker would run it: retried, recorded, and its failure kept in JobRun instead of raised
    (Celery's eager mode would otherwise raise at the first error, with no retry nor record)."""
    conf = task.app.conf
    if not conf.task_always_eager:
        task.apply_async(args=args)
        return
    # Celery re-applies an eager retry with the app's setting, not with apply(throw=False).
    propagates = conf.task_eager_propagates
    conf.task_eager_propagates = False
    try:
        task.apply(args=args)
    finally:
        conf.task_eager_propagates = propagates


def fan_out(task, *args) -> int:
    """Queue `task(schema_name, *args)` once per commune of communes_for_jobs(); the count.

    Each sub-task runs, retries and fails on its own: one commune's failure, recorded in its
    JobRun, never stops the others.
    """
    count = 0
    for schema_name in communes_for_jobs().values_list("schema_name", flat=True):
        enqueue_job(task, schema_name, *args)
        count += 1
    return count
