"""The rules' inputs for one product, loaded in a few queries, and the refund a cancellation
would give. Shared by services (writes) and selectors (reads)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection

from tenant_apps.bookings import rules
from tenant_apps.bookings.models import Reservation, ReservationStatus
from tenant_apps.catalog.models import Closure, Product
from tenant_apps.enrollments.models import FamilyProfile


@dataclass
class BookingContext:
    """Everything the rules need for one product and a set of days: loaded in a few queries."""

    product: Product
    zone: str
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
            zone=getattr(connection.tenant, "holiday_zone", ""),
            closures=closures,
            quotient_familial=profile.quotient_familial if profile else None,
        )

    def is_open(self, day: datetime.date) -> bool:
        return self.closed_reason(day) is None

    def closed_reason(self, day: datetime.date) -> str | None:
        """Why the product is closed on `day` ("vacances scolaires"…), None when open."""
        return rules.closed_reason(
            day,
            weekdays=self.product.weekdays,
            opening_period=self.product.opening_period,
            zone=self.zone,
            closures=self.closures,
        )

    def closed_by_reason(self, days: list[datetime.date]) -> dict[str, list[datetime.date]]:
        """The closed ones among `days`, grouped by why: {"vacances scolaires": [...], ...}."""
        groups: dict[str, list[datetime.date]] = {}
        for day in sorted(days):
            reason = self.closed_reason(day)
            if reason is not None:
                groups.setdefault(reason, []).append(day)
        return groups

    def booking_deadline(self, day: datetime.date) -> datetime.datetime:
        return rules.deadline_for(day, rules.DeadlineRule.for_booking(self.product))

    def cancel_deadline(self, day: datetime.date) -> datetime.datetime:
        return rules.deadline_for(day, rules.DeadlineRule.for_cancellation(self.product))

    def price(self, sibling_rank: int) -> int:
        return rules.price_for(
            base_price_cents=self.product.price_cents,
            qf_brackets=self.product.qf_brackets,
            quotient_familial=self.quotient_familial,
            sibling_rank=sibling_rank,
            sibling_reduction_percent=self.product.sibling_reduction_percent,
        )


def refund_if_cancelled(reservation: Reservation, *, now: datetime.datetime) -> int | None:
    """What cancelling `reservation` at `now` would give back; None if it cannot be cancelled."""
    if reservation.status != ReservationStatus.BOOKED:
        return None
    product = reservation.product
    if reservation.date >= datetime.date.max or now >= rules.at_paris_time(
        reservation.date + datetime.timedelta(days=1), datetime.time(0)
    ):
        return None  # the day is over (or beyond any calendar)
    deadline = rules.deadline_for(reservation.date, rules.DeadlineRule.for_cancellation(product))
    return rules.refund_for(
        price_cents=reservation.price_cents,
        now=now,
        deadline=deadline,
        late_refund_percent=product.late_cancellation_refund_percent,
    )
