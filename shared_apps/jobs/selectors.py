"""Reads of the scheduled jobs' runs, for the operators' pages and console."""

from __future__ import annotations

import datetime

from django.db.models import Count, QuerySet

from shared_apps.jobs.models import JobRun, JobStatus


def failed_runs(since: datetime.datetime | None = None) -> QuerySet[JobRun]:
    """Failed runs, newest first (with their commune), since `since` (aware datetime) if given."""
    runs = JobRun.objects.filter(status=JobStatus.FAILED).select_related("commune")
    if since is not None:
        runs = runs.filter(started_at__gte=since)
    return runs.order_by("-started_at", "-pk")


def failures_per_commune(since: datetime.datetime) -> dict[int, int]:
    """{commune id: number of failed runs since `since`} for communes with at least one; runs
    of platform-wide jobs (no commune) are not counted here."""
    rows = (
        JobRun.objects.filter(
            status=JobStatus.FAILED, started_at__gte=since, commune_id__isnull=False
        )
        .values("commune_id")
        .annotate(failures=Count("pk"))
        .order_by()
    )
    return {row["commune_id"]: row["failures"] for row in rows}


def recent_runs(*, limit: int = 100) -> list[JobRun]:
    """The latest runs of every job, newest first, with their commune."""
    return list(JobRun.objects.select_related("commune").order_by("-started_at", "-pk")[:limit])
