"""Use case "Pointage": staff mark who came and who did not among the children booked on a
product's day. Audited."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from shared_apps.audit.services import record
from shared_apps.common.validation import parse_date
from tenant_apps.bookings.errors import InvalidBooking
from tenant_apps.bookings.locks import lock_counters
from tenant_apps.bookings.models import LIVE_STATUSES, Reservation, ReservationStatus
from tenant_apps.bookings.services.checks import active_product
from tenants.services import assert_on_schema

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune


def mark_attendance(
    *,
    commune: Commune,
    staff_user: User,
    day: datetime.date | str,
    product_id: int | str,
    present: Iterable[int] | None,
    absent: Iterable[int] | None,
) -> int:
    """Mark the children `present` and `absent` on `day` (not a day to come); every one must
    be booked that day. Returns how many were marked."""
    assert_on_schema(commune)
    product = active_product(product_id)
    parsed_day = parse_date(day)
    try:
        present, absent = {int(c) for c in present or []}, {int(c) for c in absent or []}
    except (TypeError, ValueError) as exc:
        raise InvalidBooking("Jour ou enfants invalides.") from exc
    if parsed_day is None:
        raise InvalidBooking("Jour ou enfants invalides.")
    day = parsed_day
    if present & absent:
        raise InvalidBooking("Un enfant ne peut pas être à la fois présent et absent.")
    if day > timezone.localdate():
        raise InvalidBooking(
            "On ne pointe pas un jour à venir.", fields={"date": ["Jour à venir."]}
        )
    with transaction.atomic():
        # The booking paths' lock order: the day's counter, then its reservations by id.
        lock_counters([(product.pk, day)])
        booked = {
            r.child_id: r
            for r in Reservation.objects.select_for_update(of=("self",))
            .filter(product=product, date=day, status__in=LIVE_STATUSES)
            .order_by("pk")
        }
        unknown = (present | absent) - set(booked)
        if unknown:
            raise InvalidBooking(
                "Ces enfants n’ont pas de réservation ce jour-là.",
                fields={"children": [str(c) for c in sorted(unknown)]},
            )
        for child_id in present:
            booked[child_id].status = ReservationStatus.ATTENDED
        for child_id in absent:
            booked[child_id].status = ReservationStatus.ABSENT
        changed = [booked[c] for c in present | absent]
        Reservation.objects.bulk_update(changed, ["status"])
        record(
            actor=staff_user,
            commune=commune,
            action="booking.attendance",
            target_type="product_day",
            target_id=f"{product.pk}:{day.isoformat()}",
            details={"present": sorted(present), "absent": sorted(absent)},
        )
    return len(changed)
