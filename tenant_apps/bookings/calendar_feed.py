"""The family's bookings as an iCalendar feed (RFC 5545) that calendar applications subscribe to:
one all-day event per child, product and day, the same UID for a reservation on every fetch."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from icalendar import Calendar, Event, vDuration

if TYPE_CHECKING:
    from tenant_apps.bookings.models import Reservation
    from tenants.models import Commune

CALENDAR_NAME = "Réservations (Marelle)"
# How often a calendar application should fetch the feed again (it may ask more or less often).
REFRESH_INTERVAL = datetime.timedelta(hours=6)
# Past days stay in the feed this long (what was booked last month), then drop out of it.
PAST_DAYS_SHOWN = 62


def event_title(*, service_name: str, product_name: str, first_name: str) -> str:
    """ "Cantine — Léa"; "Garderie matin — Léa" when the product names its part of the service
    (a service with several products: the morning and the evening garderie)."""
    name = product_name if product_name.lower().startswith(service_name.lower()) else service_name
    return f"{name} — {first_name}"


def reservation_uid(*, commune: Commune, reservation: Reservation, host: str) -> str:
    """Stable per reservation: a cancelled then re-booked day is a new event."""
    return f"reservation-{reservation.pk}.{commune.schema_name}@{host}"


def family_calendar(groups: Iterable[tuple[Commune, list[Reservation]]], *, host: str) -> bytes:
    """The iCalendar text of `groups` ([(commune, [reservation, …]), …], as
    selectors.live_reservations_of_family_everywhere reads them)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Marelle//Réservations des familles//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    # Outlook's name for REFRESH-INTERVAL.
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL).to_ical().decode())
    for commune, reservations in groups:
        for reservation in reservations:
            product = reservation.product
            event = Event()
            event.add("uid", reservation_uid(commune=commune, reservation=reservation, host=host))
            event.add("dtstamp", reservation.created_at.astimezone(datetime.UTC))
            event.add("dtstart", reservation.date)
            event.add("dtend", reservation.date + datetime.timedelta(days=1))
            event.add(
                "summary",
                event_title(
                    service_name=product.service.name,
                    product_name=product.name,
                    first_name=reservation.child.first_name,
                ),
            )
            description = product.name
            if reservation.variant is not None:
                description += f" ({reservation.variant.name})"
            event.add("description", description)
            event.add("location", commune.name)
            event.add("status", "CONFIRMED")
            event.add("transp", "TRANSPARENT")  # the child's day, not the parent's busy time
            calendar.add_component(event)
    return calendar.to_ical()
