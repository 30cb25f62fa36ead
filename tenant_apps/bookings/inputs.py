"""The rules' inputs for one product and family, loaded in a few queries (`BookingContext`).

Reads only: the pure rules live in `rules.py`; this gives them the product, the commune's
calendar, the service's closures and the family's quotient familial. Shared by the use cases
(`services/`) and the reads (`selectors.py`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tenant_apps.bookings import rules
from tenant_apps.catalog.models import Closure, Product
from tenant_apps.enrollments.models import FamilyProfile
from tenants.calendar import CommuneCalendar, commune_calendar

if TYPE_CHECKING:
    from tenants.models import Commune


@dataclass
class BookingContext:
    """Everything the rules need for one product and a set of days: loaded in a few queries."""

    product: Product
    calendar: CommuneCalendar
    closures: dict[datetime.date, str]  # the service's closing days and their reason
    quotient_familial: int | None

    @classmethod
    def load(
        cls,
        product: Product,
        family_id: int | None,
        dates: list[datetime.date],
        *,
        commune: Commune,
    ) -> BookingContext:
        """The inputs for `product`, the family and `dates` (sorted), in `commune`."""
        closures = dict(
            Closure.objects.filter(
                service_id=product.service_id, date__gte=dates[0], date__lte=dates[-1]
            ).values_list("date", "reason")
        )
        # No family (None) matches no profile.
        profile = FamilyProfile.objects.filter(family_id=family_id).first()  # type: ignore[misc]
        return cls(
            product=product,
            calendar=commune_calendar(commune),
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
        """The price of one place for this family at `sibling_rank` (1: the first child)."""
        return rules.price_for(
            base_price_cents=self.product.price_cents,
            qf_brackets=self.product.qf_brackets,
            quotient_familial=self.quotient_familial,
            sibling_rank=sibling_rank,
            sibling_reduction_percent=self.product.sibling_reduction_percent,
        )

    def prices(self) -> tuple[int, int]:
        """(full, sibling) price of the product for this family, in cents."""
        return self.price(1), self.price(2)
