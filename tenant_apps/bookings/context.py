"""The rules' inputs for one product, loaded in a few queries, and the share of a day a
cancellation would give back. Shared by services (writes) and selectors (reads)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection

from tenant_apps.bookings import rules
from tenant_apps.bookings.models import Reservation, ReservationStatus
from tenant_apps.catalog.models import Closure, Product
from tenant_apps.enrollments.models import FamilyProfile
from tenants.calendar import CommuneCalendar, commune_calendar


@dataclass
class BookingContext:
    """Everything the rules need for one product and a set of days: loaded in a few queries."""

    product: Product
    calendar: CommuneCalendar
    closures: dict[datetime.date, str]  # the service's closing days and their reason
    quotient_familial: int | None

    @classmethod
    def load(cls, product: Product, family_id: int, dates: list[datetime.date]) -> BookingContext:
        closures = dict(
            Closure.objects.filter(
                service_id=product.service_id, date__gte=dates[0], date__lte=dates[-1]
            ).values_list("date", "reason")
        )
        profile = FamilyProfile.objects.filter(family_id=family_id).first()
        return cls(
            product=product,
            calendar=commune_calendar(connection.tenant),
            closures=closures,
            quotient_familial=profile.quotient_familial if profile else None,
        )

    def availability(self, day: datetime.date) -> rules.DayAvailability:
        return rules.availability(
            day,
            weekdays=self.product.weekdays,
            opening_period=self.product.opening_period,
            calendar=self.calendar,
            closures=self.closures,
        )

    def is_open(self, day: datetime.date) -> bool:
        return self.availability(day).open

    def closed_reason(self, day: datetime.date) -> str | None:
        """Why the product is closed on `day` ("Vacances de Noël"…), None when open."""
        available = self.availability(day)
        return None if available.open else available.reason

    def closed_by_reason(self, days: list[datetime.date]) -> dict[str, list[datetime.date]]:
        """The closed ones among `days`, grouped by why: {"Vacances de Noël": [...], ...}."""
        groups: dict[str, list[datetime.date]] = {}
        for day in sorted(days):
            reason = self.closed_reason(day)
            if reason is not None:
                groups.setdefault(reason, []).append(day)
        return groups

    def booking_deadline(self, day: datetime.date) -> datetime.datetime:
        rule = rules.DeadlineRule.for_booking(self.product)
        return rules.deadline_for(day, rule, calendar=self.calendar)

    def cancel_deadline(self, day: datetime.date) -> datetime.datetime:
        rule = rules.DeadlineRule.for_cancellation(self.product)
        return rules.deadline_for(day, rule, calendar=self.calendar)

    def price(self, sibling_rank: int) -> int:
        return rules.price_for(
            base_price_cents=self.product.price_cents,
            qf_brackets=self.product.qf_brackets,
            quotient_familial=self.quotient_familial,
            sibling_rank=sibling_rank,
            sibling_reduction_percent=self.product.sibling_reduction_percent,
        )


def cancellation_refund_percent(
    reservation: Reservation, *, now: datetime.datetime, calendar: CommuneCalendar
) -> int | None:
    """The share (percent) of what cancelling `reservation` frees that is given back at `now`:
    100 before the product's cancellation deadline (Europe/Paris, working days of the commune's
    `calendar`), its late rule after it; None once the day is over, when the late rule forbids
    cancelling, or when it is not booked."""
    if reservation.status != ReservationStatus.BOOKED:
        return None
    if reservation.date >= datetime.date.max or now >= rules.at_paris_time(
        reservation.date + datetime.timedelta(days=1), datetime.time(0)
    ):
        return None  # the day is over (or beyond any calendar)
    rule = rules.DeadlineRule.for_cancellation(reservation.product)
    deadline = rules.deadline_for(reservation.date, rule, calendar=calendar)
    return rules.refund_percent_at(
        now=now,
        deadline=deadline,
        late_refund_percent=reservation.product.late_cancellation_refund_percent,
    )
