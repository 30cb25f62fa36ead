"""Pure booking rules: calendars, deadlines, prices, ranks, refunds, capacity. No database.

Every rule a parent or an agent could ask about is a function here, given its inputs as values
(`inputs.BookingContext` loads them for one product and family), so each is easy to
property-test and to read:

- the price of a day: `price_for` (quotient familial bracket, sibling reduction) for one place;
  `sibling_ranks` and `marginal_prices` for who is "first" on a family's day; `day_price` for
  what the family owes for the places it holds on one day;
- the refund of a cancellation: `cancellation_refund_percent` (100 before the deadline, the
  late rule after it) then `settle_day` (what the family's whole day gives back);
- deadlines and opening days: `deadline_for`, `availability`;
- capacity: `over_capacity`.

Times are the commune's (Europe/Paris); deadlines are aware datetimes, DST-safe. The commune's
days (public holidays, school holidays) come from its place: a `tenants.calendar.CommuneCalendar`.
The lock order the writers follow is in `locks.py`.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tenant_apps.bookings.models import LIVE_STATUSES, OrderStatus, ReservationStatus
from tenant_apps.catalog.models import DeadlineKind, OpeningPeriod
from tenants.calendar import BeyondSchoolCalendar, CommuneCalendar

if TYPE_CHECKING:
    from tenant_apps.bookings.models import Reservation
    from tenant_apps.catalog.models import Product

PARIS = ZoneInfo("Europe/Paris")
WEEKDAY_NAMES = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def day_label(day: datetime.date) -> str:
    """ "lundi 21/12": a day as the refusals and confirmations say it."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day:02d}/{day.month:02d}"


def list_days(days: list[datetime.date]) -> str:
    """ "lundi 21/12, mardi 22/12 et 3 autre(s)": the first six days, then how many more."""
    shown = ", ".join(day_label(d) for d in days[:6])
    return shown + (f" et {len(days) - 6} autre(s)" if len(days) > 6 else "")


@dataclass(frozen=True)
class DeadlineRule:
    kind: str
    days: int = 0
    weekday: int = 3
    time: datetime.time = datetime.time(12, 0)

    @classmethod
    def for_booking(cls, product: Product) -> DeadlineRule:
        return cls(
            product.booking_deadline_kind,
            product.booking_deadline_days,
            product.booking_deadline_weekday,
            product.booking_deadline_time,
        )

    @classmethod
    def for_cancellation(cls, product: Product) -> DeadlineRule:
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
    closures: Mapping[datetime.date, str] | set[datetime.date],
) -> DayAvailability:
    """Open or closed and, when closed, why, in French: the one answer for the parents'
    calendar, booking refusals and the agent's "Réserver pour une famille".

    Closed: not a day of the week the product runs ("pas d’accueil le mercredi"), a public
    holiday where the commune is ("Jour férié (Vendredi saint)"), a closure of the service
    ("fermeture du service : Grève"; `closures` maps days to their reason, a set of days is
    accepted when reasons are not known), a school holiday for school-day products ("Vacances de
    Noël"), a school day for holiday products, or a day the school calendar does not cover yet
    (fail closed: "Calendrier scolaire pas encore publié").
    """
    if day.weekday() not in weekdays:
        return DayAvailability(False, f"pas d’accueil le {WEEKDAY_NAMES[day.weekday()]}")
    holiday = calendar.public_holiday_on(day)
    if holiday is not None:
        return DayAvailability(False, f"Jour férié ({holiday})")
    if day in closures:
        reason = closures.get(day, "") if isinstance(closures, Mapping) else ""
        reason = (reason or "").strip().rstrip(".")
        return DayAvailability(
            False,
            f"fermeture du service : {reason}" if reason else "fermeture exceptionnelle du service",
        )
    if opening_period == OpeningPeriod.ALL:
        return DayAvailability(True)
    if calendar.school is None or not calendar.school.covers(day):
        return DayAvailability(False, UNPUBLISHED)
    school_holiday = calendar.school.holiday_on(day)
    if opening_period == OpeningPeriod.SCHOOL_DAYS:
        return DayAvailability(school_holiday is None, school_holiday or "")
    if opening_period == OpeningPeriod.HOLIDAYS:
        return DayAvailability(
            school_holiday is not None,
            "" if school_holiday else "ouvert seulement pendant les vacances scolaires",
        )
    return DayAvailability(True)


def is_open(
    day: datetime.date,
    *,
    weekdays: list[int],
    opening_period: str,
    calendar: CommuneCalendar,
    closures: Mapping[datetime.date, str] | set[datetime.date],
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


def over_capacity(booked: int, wanted: int, capacity: int | None) -> bool:
    """Whether taking `wanted` more places on a day that has `booked` goes over `capacity`
    (None: no limit)."""
    return capacity is not None and booked + wanted > capacity


def sibling_ranks(
    child_ids: list[int], dates: list[datetime.date], holding: Counter
) -> dict[tuple[int, datetime.date], int]:
    """Rank of each new (child, day) among the family's children holding that day (1 = first),
    `holding` counting the places the family already holds (booked or in its cart) per day.
    The children take their ranks in the order given."""
    held = Counter(holding)
    ranks = {}
    for day in dates:
        for child_id in child_ids:
            held[day] += 1
            ranks[(child_id, day)] = held[day]
    return ranks


def marginal_prices(
    places: list[tuple[int, datetime.date, int]],
    *,
    holding: Counter,
    prices: Mapping[int, tuple[int, int]],
) -> list[int]:
    """The price of each new (product, day, child) place, in the order given: the marginal
    price of adding it to the family's day, full for the first child holding the product that
    day, the sibling price for the others. `holding` counts the family's live places per
    (product, day); `prices` gives each product's (full, sibling) price for this family. New
    places take their rank by (product, day, child)."""
    held = Counter(holding)
    result: dict[int, int] = {}
    for index in sorted(range(len(places)), key=lambda i: places[i]):
        product_id, day, _ = places[index]
        full, sibling = prices[product_id]
        result[index] = sibling if held[(product_id, day)] else full
        held[(product_id, day)] += 1
    return [result[i] for i in range(len(places))]


# --- one family's day: the price of the set booked, and what a cancellation gives back -----------
#
# A child's price depends on which of the family's children hold the same product that day (the
# sibling reduction), so a day is priced and settled as a whole. The rule, written once: the
# family's first child to hold the day (in booking order) pays the full price (its quotient
# familial bracket), every other child the sibling price. Each place keeps the two prices it was
# sold with, so later tariff or QF changes never re-price what was already bought.


@dataclass(frozen=True)
class Place:
    """One child's place on the family's day, as the settlement sees it (amounts in cents).

    `price_cents` is what the place was sold for; `refund_cents` what was given back (or, by
    direct debit, taken off the invoice); `late_fee_cents` the part a late cancellation keeps.
    Places of orders never paid (released card orders) are left out by the caller.
    """

    key: int  # booking order (the reservation's id)
    price_cents: int
    full_price_cents: int
    sibling_price_cents: int
    refund_cents: int = 0
    late_fee_cents: int = 0
    live: bool = True


def day_price(places: Iterable[Place]) -> int:
    """What the family owes for its live places of one product on one day, in cents: the first
    live place (booking order) at its full price, the others at their sibling price."""
    live = sorted((p for p in places if p.live), key=lambda p: p.key)
    if not live:
        return 0
    return live[0].full_price_cents + sum(p.sibling_price_cents for p in live[1:])


def holds_money(reservation: Reservation) -> bool:
    """Whether a reservation holds money in its family's day: all but those of card orders
    released unpaid (they were never paid, their wallet part went back with the release)."""
    return reservation.order.status != OrderStatus.FAILED


def places_of(reservations: Iterable[Reservation]) -> list[Place]:
    """The `Place`s of one family's day, from its reservations (their `order` loaded)."""
    return [
        Place(
            key=r.pk,
            price_cents=r.price_cents,
            full_price_cents=r.full_price_cents,
            sibling_price_cents=r.sibling_price_cents,
            refund_cents=r.refund_cents,
            late_fee_cents=r.late_fee_cents,
            live=r.status in LIVE_STATUSES,
        )
        for r in reservations
        if holds_money(r)
    ]


@dataclass(frozen=True)
class Settlement:
    """New refund and late-fee totals per place (only the places that change), in cents."""

    refund_cents: dict[int, int] = field(default_factory=dict)
    late_fee_cents: dict[int, int] = field(default_factory=dict)

    def refunded_now(self, places: Iterable[Place]) -> int:
        before = {p.key: p.refund_cents for p in places}
        return sum(total - before[key] for key, total in self.refund_cents.items())


def settle_day(
    places: Iterable[Place],
    *,
    cancelled: set[int],
    refund_percent: int = 100,
    waive_late_fees: bool = False,
) -> Settlement:
    """Cancel the places `cancelled` and settle the family's day as a whole.

    What the family holds beyond what the remaining set owes (`day_price` + late fees kept) is
    the excess: `refund_percent` of it is given back (100 within the deadline; the product's
    late rule after it), the rest becomes a late fee. The money comes back from the cancelled
    place first, then from what earlier cancellations kept for the sibling price (so cancelling
    the full-price child refunds only the sibling price while a sibling stays, and the rest comes
    back when the day is emptied), then from live places that paid above what they owe in the
    set. A closure waives late fees: everything paid comes back.

    Invariant (property-tested): after any sequence of bookings at the marginal price and of
    settlements, sum(price - refund) == day_price + sum(late fees).
    """
    after = [replace(p, live=False) if p.key in cancelled else p for p in places]
    fees = {p.key: 0 if waive_late_fees else p.late_fee_cents for p in after}
    owed = day_price(after) + sum(fees.values())
    held = sum(p.price_cents - p.refund_cents for p in after)
    excess = max(held - owed, 0)
    to_refund = excess * refund_percent // 100  # rounded down: the late rule's share
    to_keep = excess - to_refund
    refunds: dict[int, int] = {}
    new_fees = {p.key: fees[p.key] for p in after if fees[p.key] != p.late_fee_cents}
    # The cancelled places first, then earlier cancellations in booking order.
    holders = sorted(
        (p for p in after if not p.live), key=lambda p: (p.key not in cancelled, p.key)
    )
    for place in holders:
        room = place.price_cents - place.refund_cents - fees[place.key]
        take = min(room, to_refund)
        if take:
            refunds[place.key] = place.refund_cents + take
            to_refund -= take
            room -= take
        keep = min(room, to_keep)
        if keep:
            new_fees[place.key] = fees[place.key] + keep
            to_keep -= keep
    # What is left was paid by live places above what they owe in the set: a place booked at
    # the full price while its sibling's card payment was pending (not counted then, so a
    # released card order never leaves a sibling at the reduced price) once that card money
    # arrives, or a tariff that changed between bookings. Live places give back their overpaid
    # part, the latest booked first.
    live = sorted((p for p in after if p.live), key=lambda p: p.key)
    due = {
        p.key: (p.full_price_cents if i == 0 else p.sibling_price_cents) for i, p in enumerate(live)
    }
    for place in reversed(live):
        overpaid = place.price_cents - place.refund_cents - due[place.key]
        take = min(max(overpaid, 0), to_refund)
        if take:
            refunds[place.key] = place.refund_cents + take
            to_refund -= take
    return Settlement(refunds, new_fees)


def refund_percent_at(
    *, now: datetime.datetime, deadline: datetime.datetime, late_refund_percent: int | None
) -> int | None:
    """The share (percent) of a cancellation's excess given back at `now`: 100 before the
    deadline, the late rule after it, None when the day can no longer be cancelled."""
    if now < deadline:
        return 100
    return late_refund_percent


def cancellation_refund_percent(
    reservation: Reservation, *, now: datetime.datetime, calendar: CommuneCalendar
) -> int | None:
    """The share (percent) of what cancelling `reservation` frees that is given back at `now`:
    100 before the product's cancellation deadline (Europe/Paris, working days of the commune's
    `calendar`), its late rule after it; None once the day is over, when the late rule forbids
    cancelling, or when it is not booked. `reservation` comes with its product."""
    if reservation.status != ReservationStatus.BOOKED:
        return None
    if reservation.date >= datetime.date.max or now >= at_paris_time(
        reservation.date + datetime.timedelta(days=1), datetime.time(0)
    ):
        return None  # the day is over (or beyond any calendar)
    rule = DeadlineRule.for_cancellation(reservation.product)
    deadline = deadline_for(reservation.date, rule, calendar=calendar)
    return refund_percent_at(
        now=now,
        deadline=deadline,
        late_refund_percent=reservation.product.late_cancellation_refund_percent,
    )
