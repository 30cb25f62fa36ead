"""Reads of the commune's catalogue (run inside the commune's schema).

Lists prefetch what their pages and endpoints show, so the number of queries does not grow with
the number of services, products or variants.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from shared_apps.common.money import format_euros
from shared_apps.common.validation import parse_id
from tenant_apps.bookings.rules import WEEKDAY_NAMES, DeadlineRule
from tenant_apps.catalog.models import (
    Closure,
    DocumentType,
    MealVariant,
    OpeningPeriod,
    Product,
    Service,
)


def _valid_id(value: int) -> bool:
    # Ids come from URLs; one no bigint can hold is simply unknown (PostgreSQL would refuse it).
    return parse_id(value) is not None


def _variants() -> Prefetch:
    # In the order the manager typed them ("Standard, Sans viande, PAI"), not alphabetical.
    return Prefetch("variants", queryset=MealVariant.objects.order_by("pk"))


def _document_types(to_attr: str) -> Prefetch:
    return Prefetch(
        "document_types",
        queryset=DocumentType.objects.order_by("-required", "label", "pk"),
        to_attr=to_attr,
    )


def active_services() -> QuerySet[Service]:
    return Service.objects.filter(is_active=True).order_by("name")


def offered_services() -> QuerySet[Service]:
    """Active services as families see them, with `.offered_products` (active, with their
    variants) and `.document_list` (every document type): four queries in all."""
    products = (
        Product.objects.filter(is_active=True).order_by("name", "pk").prefetch_related(_variants())
    )
    return (
        Service.objects.filter(is_active=True)
        .order_by("name", "pk")
        .prefetch_related(
            Prefetch("products", queryset=products, to_attr="offered_products"),
            _document_types("document_list"),
        )
    )


def services_for_managers() -> QuerySet[Service]:
    """Every service (active first), with `product_count` and `document_count`."""
    return Service.objects.annotate(
        product_count=Count("products", distinct=True),
        document_count=Count("document_types", distinct=True),
    ).order_by("-is_active", "name", "pk")


def service_by_id(service_id: int) -> Service | None:
    if not _valid_id(service_id):
        return None
    return Service.objects.filter(pk=service_id).first()


def service_with_details(service_id: int) -> Service | None:
    """One service with `.product_list` (all, with variants), `.document_list` and
    `.upcoming_closures` (from today on)."""
    if not _valid_id(service_id):
        return None
    products = Product.objects.order_by("-is_active", "name", "pk").prefetch_related(_variants())
    return (
        Service.objects.filter(pk=service_id)
        .prefetch_related(
            Prefetch("products", queryset=products, to_attr="product_list"),
            _document_types("document_list"),
            Prefetch("closures", queryset=_closures_to_come(), to_attr="upcoming_closures"),
        )
        .first()
    )


def product_of(service: Service, product_id: int) -> Product | None:
    if not _valid_id(product_id):
        return None
    return (
        Product.objects.filter(service=service, pk=product_id).prefetch_related(_variants()).first()
    )


def document_type_of(service: Service, document_type_id: int) -> DocumentType | None:
    if not _valid_id(document_type_id):
        return None
    return DocumentType.objects.filter(service=service, pk=document_type_id).first()


def _closures_to_come() -> QuerySet[Closure]:
    # "Today" is the commune's day (Europe/Paris), and a closure today is still to come.
    return Closure.objects.filter(date__gte=timezone.localdate()).order_by("date", "pk")


def upcoming_closures(service: Service) -> QuerySet[Closure]:
    """The service's closures from today on, soonest first."""
    return _closures_to_come().filter(service=service)


def closure_of(service: Service, closure_id: int) -> Closure | None:
    if not _valid_id(closure_id):
        return None
    return Closure.objects.filter(service=service, pk=closure_id).first()


# --- Booking rules in plain French ----------------------------------------------------------

_PERIODS: dict[str, str] = {
    OpeningPeriod.SCHOOL_DAYS: "jours d’école (hors vacances scolaires)",
    OpeningPeriod.HOLIDAYS: "vacances scolaires uniquement",
    OpeningPeriod.ALL: "toute l’année",
}


@dataclass(frozen=True)
class BookingRulesSummary:
    """A product's rules as staff and families read them: one sentence per rule."""

    opening: str
    booking_deadline: str
    cancel_deadline: str
    late_cancellation: str
    capacity: str
    prices: list[str]
    sibling_reduction: str
    attendance: list[str]


def attendance_rules_summary(product: Product) -> list[str]:
    """The "Pointage" rules in plain French, one sentence each."""
    if product.unbooked_presence == "billed":
        price = (
            product.unbooked_price_cents
            if product.unbooked_price_cents is not None
            else product.price_cents
        )
        unbooked = f"enfant présent sans réservation : accepté, facturé {format_euros(price)}"
    else:
        unbooked = "enfant présent sans réservation : non accepté"
    absence = (
        f"absence : remboursée à {product.absence_refund_percent} %"
        if product.absence_refund_percent
        else "absence : non remboursée"
    )
    sick = (
        "maladie : le certificat médical ne change rien"
        if product.sick_refund_percent is None
        else f"maladie avec certificat médical : remboursée à {product.sick_refund_percent} %"
    )
    return [unbooked, absence, sick]


def booking_rules_summary(product: Product) -> BookingRulesSummary:
    days = ", ".join(WEEKDAY_NAMES[day] for day in sorted(product.weekdays)) or "aucun jour"
    late = product.late_cancellation_refund_percent
    if late is None:
        late_text = "plus annulable"
    elif late == 0:
        late_text = "annulable sans remboursement"
    elif late == 100:
        late_text = "annulable, remboursé en entier"
    else:
        late_text = f"annulable, remboursé à {late} %"
    brackets = sorted(product.qf_brackets or [], key=lambda bracket: bracket["max_qf"])
    prices = [
        f"quotient familial jusqu’à {b['max_qf']} : {format_euros(b['price_cents'])}"
        for b in brackets
    ]
    if prices:
        prices.append(f"au-delà, ou sans quotient familial : {format_euros(product.price_cents)}")
    else:
        prices.append(f"{format_euros(product.price_cents)} pour tous")
    capacity = product.daily_capacity
    return BookingRulesSummary(
        opening=f"{days} — {_PERIODS.get(product.opening_period, product.opening_period)}",
        booking_deadline=DeadlineRule.for_booking(product).describe(),
        cancel_deadline=DeadlineRule.for_cancellation(product).describe(),
        late_cancellation=late_text,
        capacity="illimitées" if capacity is None else f"{capacity} par jour",
        prices=prices,
        sibling_reduction=(
            f"{product.sibling_reduction_percent} % à partir du 2e enfant"
            if product.sibling_reduction_percent
            else "aucune"
        ),
        attendance=attendance_rules_summary(product),
    )
