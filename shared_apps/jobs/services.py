"""Use cases of the jobs app a user can cause."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared_apps.jobs.models import ReminderPreference

if TYPE_CHECKING:
    from shared_apps.accounts.models import User


def set_booking_reminders(*, user: User, enabled: bool) -> None:
    """Turn the reminders before booking deadlines on or off for `user` (all communes)."""
    ReminderPreference.objects.update_or_create(user=user, defaults={"booking_reminders": enabled})
