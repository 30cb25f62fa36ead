"""Pure booking rules: calendars, deadlines, prices, refunds. No database, easy to property-test.

Times are the commune's (Europe/Paris); deadlines are aware datetimes, DST-safe.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from jours_feries_france import JoursFeries
from vacances_scolaires_france import SchoolHolidayDates

from tenant_apps.catalog.models import DeadlineKind, OpeningPeriod

PARIS = ZoneInfo("Europe/Paris")
WEEKDAY_NAMES = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


@dataclass(frozen=True)
class DeadlineRule:
    kind: str
    days: int = 0
    weekday: int = 3
    time: datetime.time = datetime.time(12, 0)

    @classmethod
    def for_booking(cls, product) -> DeadlineRule:
        return cls(
            product.booking_deadline_kind,
            product.booking_deadline_days,
            product.booking_deadline_weekday,
            product.booking_deadline_time,
        )

    @classmethod
    def for_cancellation(cls, product) -> DeadlineRule:
        return cls(
            product.cancel_deadline_kind,
            product.cancel_deadline_days,
            product.cancel_deadline_weekday,
            product.cancel_deadline_time,
        )

    def describe(self) -> str:
        """The rule in plain French, for parents and staff."""
        at = self.time.strftime("%H:%M").replace(":", " h ")
        if self.kind == DeadlineKind.SAME_DAY:
            return f"le jour même avant {at}"
        if self.kind == DeadlineKind.WEEKDAY_BEFORE:
            return f"le {WEEKDAY_NAMES[self.weekday]} de la semaine précédente avant {at}"
        if self.days == 0:
            return f"le jour même avant {at}"
        plural = "s" if self.days > 1 else ""
        return f"{self.days} jour{plural} ouvré{plural} avant, avant {at}"


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(JoursFeries.for_year(year).values())


@lru_cache(maxsize=1)
def _school_holidays() -> SchoolHolidayDates:
    return SchoolHolidayDates()


def is_public_holiday(day: datetime.date) -> bool:
    return day in public_holidays(day.year)


def is_school_holiday(day: datetime.date, zone: str) -> bool:
    if zone not in {"A", "B", "C"}:
        return False
    try:
        return _school_holidays().is_holiday_for_zone(day, zone)
    except Exception:  # dates beyond the library's data: treat as a school day
        return False


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day)


def at_paris_time(day: datetime.date, time: datetime.time) -> datetime.datetime:
    """`day` at wall-clock `time` in Paris, whatever the UTC offset that day (DST)."""
    return datetime.datetime.combine(day, time, tzinfo=PARIS)


def deadline_for(day: datetime.date, rule: DeadlineRule) -> datetime.datetime:
    """The last moment (exclusive) at which `day` can still be booked or cancelled."""
    if rule.kind == DeadlineKind.SAME_DAY:
        return at_paris_time(day, rule.time)
    if rule.kind == DeadlineKind.WEEKDAY_BEFORE:
        monday = day - datetime.timedelta(days=day.weekday())
        return at_paris_time(monday - datetime.timedelta(days=7 - rule.weekday), rule.time)
    cursor, remaining = day, rule.days
    while remaining > 0:
        cursor -= datetime.timedelta(days=1)
        if is_working_day(cursor):
            remaining -= 1
    return at_paris_time(cursor, rule.time)


def closed_reason(
    day: datetime.date,
    *,
    weekdays: list[int],
    opening_period: str,
    zone: str,
    closures: Mapping[datetime.date, str] | set[datetime.date],
) -> str | None:
    """Why `day` is closed, in French ("vacances scolaires", "jour férié", "fermeture du
    service : travaux", "pas d’accueil le mercredi"); None when it is open. The one answer for
    the parents' calendar, booking refusals and the agent's "Réserver pour une famille".

    `closures` maps the service's exceptional closing days to their reason (a set of days is
    accepted when the reasons are not known)."""
    if day.weekday() not in weekdays:
        return f"pas d’accueil le {WEEKDAY_NAMES[day.weekday()]}"
    if is_public_holiday(day):
        return "jour férié"
    if day in closures:
        reason = closures.get(day, "") if isinstance(closures, Mapping) else ""
        reason = (reason or "").strip().rstrip(".")
        return (
            f"fermeture du service : {reason}" if reason else "fermeture exceptionnelle du service"
        )
    holiday = is_school_holiday(day, zone)
    if opening_period == OpeningPeriod.SCHOOL_DAYS and holiday:
        return "vacances scolaires"
    if opening_period == OpeningPeriod.HOLIDAYS and not holiday:
        return "ouvert seulement pendant les vacances scolaires"
    return None


def is_open(
    day: datetime.date,
    *,
    weekdays: list[int],
    opening_period: str,
    zone: str,
    closures: Mapping[datetime.date, str] | set[datetime.date],
) -> bool:
    return (
        closed_reason(
            day, weekdays=weekdays, opening_period=opening_period, zone=zone, closures=closures
        )
        is None
    )


def price_for(
    *,
    base_price_cents: int,
    qf_brackets: list[dict],
    quotient_familial: int | None,
    sibling_rank: int,
    sibling_reduction_percent: int,
) -> int:
    """One place's price: the family's QF bracket (or the base price), minus the sibling cut."""
    price = base_price_cents
    if quotient_familial is not None:
        for bracket in sorted(qf_brackets or [], key=lambda b: b["max_qf"]):
            if quotient_familial <= bracket["max_qf"]:
                price = int(bracket["price_cents"])
                break
    if sibling_rank >= 2 and sibling_reduction_percent:
        price = (price * (100 - sibling_reduction_percent) + 50) // 100  # rounded to the cent
    return price


def refund_for(
    *,
    price_cents: int,
    now: datetime.datetime,
    deadline: datetime.datetime,
    late_refund_percent: int | None,
) -> int | None:
    """What cancelling now gives back; None when it can no longer be cancelled."""
    if now < deadline:
        return price_cents
    if late_refund_percent is None:
        return None
    return price_cents * late_refund_percent // 100
