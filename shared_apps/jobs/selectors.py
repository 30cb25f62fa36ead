"""Reads of the scheduled jobs' runs, for the operators' pages and console."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet

from shared_apps.families.models import Guardian
from shared_apps.jobs.models import JobRun, JobStatus, ReminderPreference

if TYPE_CHECKING:
    from shared_apps.accounts.models import User


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


def reminder_emails_of_family(family_id: int) -> list[str]:
    """The addresses a booking reminder for `family_id` goes to: its guardians with an active
    account who have not turned reminders off (ReminderPreference), in a stable order."""
    return list(
        Guardian.objects.filter(family_id=family_id, user__is_active=True)
        .exclude(user__reminder_preference__booking_reminders=False)
        .order_by("user_id")
        .values_list("user__email", flat=True)
    )


def wants_booking_reminders(user: User) -> bool:
    """Whether `user` gets booking reminders (yes unless they turned them off)."""
    return not ReminderPreference.objects.filter(user=user, booking_reminders=False).exists()
