"""The jobs app's own housekeeping: old runs pruned so the table stays small."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from shared_apps.jobs.models import JobRun, JobStatus
from shared_apps.jobs.scheduling import job_task


@job_task()
def prune_job_runs_task() -> int:
    """Daily: delete runs older than JOBS_KEEP_DAYS, failed ones after JOBS_KEEP_FAILED_DAYS;
    returns how many rows went."""
    now = timezone.now()
    ended = JobRun.objects.filter(
        started_at__lt=now - datetime.timedelta(days=settings.JOBS_KEEP_DAYS)
    ).exclude(status=JobStatus.FAILED)
    failed = JobRun.objects.filter(
        status=JobStatus.FAILED,
        started_at__lt=now - datetime.timedelta(days=settings.JOBS_KEEP_FAILED_DAYS),
    )
    return ended.delete()[0] + failed.delete()[0]
