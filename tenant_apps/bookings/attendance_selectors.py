"""Reads of the "Pointage" page: the day's list of a product, the children who may be added.

A constant number of queries whatever the number of children (pinned in
tests/backoffice/test_attendance_queries.py). Showing them to staff is audited by the caller.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q

from shared_apps.common.validation import parse_int
from shared_apps.families.selectors import family_id_of
from tenant_apps.bookings.models import (
    LIVE_STATUSES,
    MedicalCertificate,
    Reservation,
    ReservationStatus,
)
from tenant_apps.catalog.models import Product
from tenant_apps.enrollments.models import Enrollment

if TYPE_CHECKING:
    from shared_apps.accounts.models import User

MAX_SEARCH_RESULTS = 20
STATE_LABELS: dict[str, str] = {
    ReservationStatus.BOOKED: "Non pointé",
    ReservationStatus.ATTENDED: "Présent",
    ReservationStatus.ABSENT: "Absent",
}


@dataclass(frozen=True)
class SheetRow:
    """One child on the day's list (amounts in cents)."""

    reservation_id: int
    child_id: int
    first_name: str
    last_name: str
    school_class: str
    notes: str
    variant: str
    status: str
    added: bool
    has_certificate: bool
    refund_cents: int
    price_cents: int

    @property
    def state(self) -> str:
        label = STATE_LABELS.get(self.status, self.status)
        if self.added:
            label += " (sans réservation)"
        if self.status == ReservationStatus.ABSENT and self.has_certificate:
            label += ", certificat médical reçu"
        return label


def products_for_attendance() -> list[Product]:
    """The active products of active services, by service then name."""
    return list(
        Product.objects.filter(is_active=True, service__is_active=True)
        .select_related("service")
        .order_by("service__name", "name")
    )


def day_sheet(product: Product, day: datetime.date) -> list[SheetRow]:
    """The children holding a live place of `product` on `day`, by class then name: two
    queries whatever their number (reservations with their child and variant, certificates as
    an EXISTS)."""
    reservations = (
        Reservation.objects.filter(product=product, date=day, status__in=LIVE_STATUSES)
        .select_related("child", "variant")
        .annotate(
            has_certificate=Exists(MedicalCertificate.objects.filter(reservation=OuterRef("pk")))
        )
        .order_by("child__school_class", "child__last_name", "child__first_name", "pk")
    )
    return [
        SheetRow(
            reservation_id=r.pk,
            child_id=r.child_id,
            first_name=r.child.first_name,
            last_name=r.child.last_name,
            school_class=r.child.school_class,
            notes=r.child.notes,
            variant=r.variant.name if r.variant else "",
            status=r.status,
            added=r.added_at_attendance,
            has_certificate=r.has_certificate,
            refund_cents=r.attendance_refund_cents,
            price_cents=r.price_cents,
        )
        for r in reservations
    ]


def addable_children(product: Product, day: datetime.date, query: str) -> list[dict]:
    """Children enrolled in the product's service (accepted access requests of this commune)
    whose first or last name contains `query`, without a live place that day: at most
    MAX_SEARCH_RESULTS, by name. Empty for a query under two characters."""
    query = (query or "").strip()[:60]
    if len(query) < 2:
        return []
    booked = Reservation.objects.filter(product=product, date=day, status__in=LIVE_STATUSES).values(
        "child_id"
    )
    enrollments = (
        Enrollment.objects.filter(service_id=product.service_id, child__removed_at__isnull=True)
        .filter(Q(child__first_name__icontains=query) | Q(child__last_name__icontains=query))
        .exclude(child_id__in=booked)
        .select_related("child")
        .order_by("child__last_name", "child__first_name", "child_id")[:MAX_SEARCH_RESULTS]
    )
    return [
        {
            "child_id": e.child_id,
            "first_name": e.child.first_name,
            "last_name": e.child.last_name,
            "school_class": e.child.school_class,
        }
        for e in enrollments
    ]


def certificates_of(reservation_id: int) -> list[MedicalCertificate]:
    """A reservation's medical certificates, newest first."""
    return list(MedicalCertificate.objects.filter(reservation_id=reservation_id))


def latest_certificate_of_family(
    *, user: User, reservation_id: object
) -> MedicalCertificate | None:
    """The latest certificate of one of the user's family's reservations, or None (not theirs,
    unknown, none sent)."""
    family_id = family_id_of(user)
    reservation_pk = parse_int(reservation_id)
    if family_id is None or reservation_pk is None:
        return None
    return MedicalCertificate.objects.filter(
        reservation_id=reservation_pk, reservation__family_id=family_id
    ).first()
