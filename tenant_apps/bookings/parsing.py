"""The limits of a booking request and the parsing of a client's raw values (dates, child ids,
weekdays, a rhythm's period), refused with InvalidBooking (400) before any query: the cost of a
refusal does not grow with the request. Used by the use cases, the forms and the serializers."""

from __future__ import annotations

import datetime

from django.utils import timezone

from shared_apps.common.validation import MAX_DATABASE_ID
from tenant_apps.bookings.errors import InvalidBooking
from tenant_apps.catalog.services import MAX_DAILY_CAPACITY

MAX_DAYS_PER_REQUEST = 200
MAX_CHILDREN_PER_REQUEST = 20  # a family's children, with room to spare
MAX_RHYTHM_DAYS = 190  # "Six mois au plus à la fois"
MAX_DAYS_ON_BEHALF = 60  # staff book a few days for a family that forgot, not a year
MAX_ATTENDANCE_CHILDREN = MAX_DAILY_CAPACITY  # children booked on one product and day, at most
BOOKING_HORIZON_DAYS = 400


def as_int(value) -> int | None:
    """`value` as an int, None when it is not one (an unknown id then finds nothing)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_dates(raw_dates) -> list[datetime.date]:
    """Distinct sorted days from a client's list (dates or "AAAA-MM-JJ"), at most
    MAX_DAYS_PER_REQUEST, within five years of today."""
    if not isinstance(raw_dates, list | tuple) or not raw_dates:
        raise InvalidBooking(
            "Choisissez au moins un jour.", fields={"dates": ["Au moins un jour."]}
        )
    if len(raw_dates) > MAX_DAYS_PER_REQUEST:
        raise InvalidBooking(
            f"{MAX_DAYS_PER_REQUEST} jours au plus par demande.",
            fields={"dates": ["Trop de jours."]},
        )
    dates = []
    this_year = timezone.localdate().year
    for raw in raw_dates:
        try:
            dates.append(
                raw if isinstance(raw, datetime.date) else datetime.date.fromisoformat(str(raw))
            )
        except ValueError as exc:
            raise InvalidBooking(
                f"Date invalide : {raw!s:.20}. Format attendu : AAAA-MM-JJ.",
                fields={"dates": [f"Date invalide : {raw!s:.20}"]},
            ) from exc
        if abs(dates[-1].year - this_year) > 5:
            raise InvalidBooking(
                f"Date hors calendrier : {raw!s:.20}.", fields={"dates": ["Date hors calendrier."]}
            )
    return sorted(set(dates))


def parse_child_ids(raw) -> list[int]:
    """Distinct child ids from a client's list, refused (InvalidBooking, 400) when it is not a
    list, is empty, longer than MAX_CHILDREN_PER_REQUEST or holds anything but database ids."""
    if not isinstance(raw, list | tuple):
        raise InvalidBooking(fields={"child_ids": ["Identifiants d’enfants invalides."]})
    if len(raw) > MAX_CHILDREN_PER_REQUEST:
        raise InvalidBooking(
            f"{MAX_CHILDREN_PER_REQUEST} enfants au plus par demande.",
            fields={"child_ids": ["Trop d’enfants."]},
        )
    try:
        ids = sorted({int(c) for c in raw})
    except (TypeError, ValueError) as exc:
        raise InvalidBooking(fields={"child_ids": ["Identifiants d’enfants invalides."]}) from exc
    if not ids:
        raise InvalidBooking(
            "Choisissez au moins un enfant.", fields={"child_ids": ["Au moins un enfant."]}
        )
    if not all(0 < i <= MAX_DATABASE_ID for i in ids):
        raise InvalidBooking(fields={"child_ids": ["Identifiants d’enfants invalides."]})
    return ids


def parse_weekdays(raw) -> list[int]:
    """Distinct weekdays (0 = Monday … 6 = Sunday); InvalidBooking beyond seven or unknown."""
    if not isinstance(raw, list | tuple) or not raw or len(raw) > 7:
        raise InvalidBooking(fields={"weekdays": ["Choisissez de un à sept jours de la semaine."]})
    try:
        days = {int(day) for day in raw}
    except (TypeError, ValueError) as exc:
        raise InvalidBooking(fields={"weekdays": ["Jour de la semaine inconnu."]}) from exc
    if not days <= set(range(7)):
        raise InvalidBooking(fields={"weekdays": ["Jour de la semaine inconnu."]})
    return sorted(days)


def rhythm_period(start, end) -> tuple[datetime.date, datetime.date]:
    """A weekly rhythm's period: two dates, the end not before the start, MAX_RHYTHM_DAYS at
    most (the calendar of each child is computed over it)."""
    if not isinstance(start, datetime.date) or not isinstance(end, datetime.date):
        raise InvalidBooking(fields={"start": ["Indiquez le début et la fin (AAAA-MM-JJ)."]})
    if end < start:
        raise InvalidBooking(
            "La fin doit être après le début.", fields={"end": ["La fin doit être après le début."]}
        )
    if (end - start).days > MAX_RHYTHM_DAYS:
        raise InvalidBooking("Six mois au plus à la fois.", fields={"end": ["Six mois au plus."]})
    return start, end
