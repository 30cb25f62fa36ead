"""Reminders before the booking deadline: a family with children enrolled in a service and
nothing booked in it for next week is e-mailed once, when the week's first booking deadline
comes within BOOKING_REMINDER_HOURS. Parents may turn the reminders off (their account page)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from shared_apps.common.links import absolute_url
from shared_apps.jobs.models import SentNotice
from shared_apps.jobs.selectors import reminder_emails_of_family
from shared_apps.notifications.email import send_templated_email
from tenant_apps.bookings import rules
from tenant_apps.bookings.models import LIVE_STATUSES, Reservation
from tenant_apps.catalog.models import Closure, Product
from tenant_apps.enrollments.models import Enrollment
from tenants.calendar import commune_calendar
from tenants.services import assert_on_schema
from tenants.urls import commune_reverse

if TYPE_CHECKING:
    from tenants.models import Commune

REMINDER_KIND = "booking_reminder"


def next_week(today: datetime.date) -> list[datetime.date]:
    """The seven days of the week after `today`'s (Monday first): the period reminded."""
    monday = today + datetime.timedelta(days=7 - today.weekday())
    return [monday + datetime.timedelta(days=offset) for offset in range(7)]


def coming_deadlines(
    *, commune: Commune, now: datetime.datetime, days: list[datetime.date]
) -> dict[int, datetime.datetime]:
    """{service id: the earliest booking deadline still ahead among its active products' open
    days in `days`}, for the services whose deadline falls within BOOKING_REMINDER_HOURS of
    `now`. A service closed all week (holidays, closures) has none."""
    calendar = commune_calendar(commune)
    closures: dict[int, set[datetime.date]] = defaultdict(set)
    for service_id, day in Closure.objects.filter(date__range=(days[0], days[-1])).values_list(
        "service_id", "date"
    ):
        closures[service_id].add(day)
    horizon = now + datetime.timedelta(hours=settings.BOOKING_REMINDER_HOURS)
    earliest: dict[int, datetime.datetime] = {}
    for product in Product.objects.filter(is_active=True, service__is_active=True):
        rule = rules.DeadlineRule.for_booking(product)
        for day in days:
            if not rules.is_open(
                day,
                weekdays=product.weekdays,
                opening_period=product.opening_period,
                calendar=calendar,
                closures=closures[product.service_id],
            ):
                continue
            deadline = rules.deadline_for(day, rule, calendar=calendar)
            if deadline > now and (
                product.service_id not in earliest or deadline < earliest[product.service_id]
            ):
                earliest[product.service_id] = deadline
    return {sid: deadline for sid, deadline in earliest.items() if deadline <= horizon}


def send_booking_reminders(*, commune: Commune, now: datetime.datetime) -> int:
    """E-mail (French, with the link to book) every family of `commune` with a child enrolled
    in a service whose deadline for next week is coming (`coming_deadlines`) and no live
    reservation in that service next week. Once per family, service and week: a SentNotice row
    is written with the e-mail, so a second run (or a retry) sends nothing again; guardians who
    turned reminders off are skipped. Returns how many families were e-mailed."""
    assert_on_schema(commune)
    days = next_week(timezone.localdate(now))
    sent = 0
    for service_id, deadline in sorted(
        coming_deadlines(commune=commune, now=now, days=days).items()
    ):
        enrolled = set(
            Enrollment.objects.filter(service_id=service_id).values_list("family_id", flat=True)
        )
        booked = set(
            Reservation.objects.filter(
                product__service_id=service_id,
                date__range=(days[0], days[-1]),
                status__in=LIVE_STATUSES,
            ).values_list("family_id", flat=True)
        )
        service_name = Product.objects.filter(service_id=service_id).values_list(
            "service__name", flat=True
        )[0]
        for family_id in sorted(enrolled - booked):
            emails = reminder_emails_of_family(family_id)
            if not emails:
                continue
            with transaction.atomic():
                _, created = SentNotice.objects.get_or_create(
                    kind=REMINDER_KIND,
                    commune=commune,
                    key=f"{service_id}:{family_id}:{days[0].isoformat()}",
                )
                if not created:
                    continue
                context = {
                    "commune": commune,
                    "service_name": service_name,
                    "week_start": days[0],
                    "deadline": timezone.localtime(deadline),
                    "link": absolute_url(commune_reverse(commune, "bookings-menu")),
                    "settings_link": absolute_url(reverse("accounts:profile")),
                }
                for email in emails:
                    send_templated_email(to=email, template="booking_reminder", context=context)
            sent += 1
    return sent
