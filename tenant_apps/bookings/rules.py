"""Pure booking rules: calendars, deadlines, prices, refunds. No database, easy to property-test.

Times are the commune's (Europe/Paris); deadlines are aware datetimes, DST-safe. The commune's
days (public holidays, school holidays) come from its place: a `tenants.calendar.CommuneCalendar`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tenant_apps.catalog.models import DeadlineKind, OpeningPeriod
from tenants.calendar import BeyondSchoolCalendar, CommuneCalendar

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


def is_public_holiday(day: datetime.date, calendar: CommuneCalendar) -> bool:
    """Whether `day` is a public holiday where the commune is (Alsace-Moselle: also Good Friday
    and 26 December, Code du travail L3134-13; overseas: abolition of slavery)."""
    return calendar.public_holiday_on(day) is not None


def is_school_holiday(day: datetime.date, calendar: CommuneCalendar) -> bool:
    """Whether the commune's schools are on holiday on `day` (the Ministry's arrêtés, through
    the snapshot). Raises BeyondSchoolCalendar when the snapshot does not cover `day`, or the
    commune has no school calendar: never a guess."""
    if calendar.school is None:
        raise BeyondSchoolCalendar("Calendrier scolaire inconnu pour cette commune.")
    return calendar.school.holiday_on(day) is not None


def is_working_day(day: datetime.date, calendar: CommuneCalendar) -> bool:
    """Monday to Friday and not a public holiday where the commune is."""
    return day.weekday() < 5 and not is_public_holiday(day, calendar)


def at_paris_time(day: datetime.date, time: datetime.time) -> datetime.datetime:
    """`day` at wall-clock `time` in Paris, whatever the UTC offset that day (DST)."""
    return datetime.datetime.combine(day, time, tzinfo=PARIS)


def deadline_for(
    day: datetime.date, rule: DeadlineRule, *, calendar: CommuneCalendar
) -> datetime.datetime:
    """The last moment (exclusive) at which `day` can still be booked or cancelled.

    "N working days before" skips weekends and the commune's own public holidays (`calendar`):
    in Moselle, 2 working days before Monday 29 March 2027 is Wednesday 24 (Good Friday 26).
    """
    if rule.kind == DeadlineKind.SAME_DAY:
        return at_paris_time(day, rule.time)
    if rule.kind == DeadlineKind.WEEKDAY_BEFORE:
        monday = day - datetime.timedelta(days=day.weekday())
        return at_paris_time(monday - datetime.timedelta(days=7 - rule.weekday), rule.time)
    cursor, remaining = day, rule.days
    while remaining > 0:
        cursor -= datetime.timedelta(days=1)
        if is_working_day(cursor, calendar):
            remaining -= 1
    return at_paris_time(cursor, rule.time)


@dataclass(frozen=True)
class DayAvailability:
    """Whether a product is open on a day and, when closed, why (French, for the calendar)."""

    open: bool
    reason: str = ""


UNPUBLISHED = "Calendrier scolaire pas encore publié"


def availability(
    day: datetime.date,
    *,
    weekdays: list[int],
    opening_period: str,
    calendar: CommuneCalendar,
    closures: set[datetime.date],
) -> DayAvailability:
    """Open or closed, with the reason: not a day of the week the product runs, a public
    holiday (named), a closure, a school holiday (named) for school-day products, a school day
    for holiday products, or a day the school calendar does not cover yet (fail closed)."""
    if day.weekday() not in weekdays:
        return DayAvailability(False)
    holiday = calendar.public_holiday_on(day)
    if holiday is not None:
        return DayAvailability(False, f"Jour férié ({holiday})")
    if day in closures:
        return DayAvailability(False, "Fermeture du service")
    if opening_period == OpeningPeriod.ALL:
        return DayAvailability(True)
    if calendar.school is None or not calendar.school.covers(day):
        return DayAvailability(False, UNPUBLISHED)
    school_holiday = calendar.school.holiday_on(day)
    if opening_period == OpeningPeriod.SCHOOL_DAYS:
        return DayAvailability(school_holiday is None, school_holiday or "")
    if opening_period == OpeningPeriod.HOLIDAYS:
        return DayAvailability(
            school_holiday is not None, "" if school_holiday else "Période scolaire"
        )
    return DayAvailability(True)


def is_open(
    day: datetime.date,
    *,
    weekdays: list[int],
    opening_period: str,
    calendar: CommuneCalendar,
    closures: set[datetime.date],
) -> bool:
    return availability(
        day,
        weekdays=weekdays,
        opening_period=opening_period,
        calendar=calendar,
        closures=closures,
    ).open


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
