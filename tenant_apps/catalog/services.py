"""Configuring the commune's catalogue (managers). Each change of a service is published to the
platform directory so parents find it."""

from __future__ import annotations

import datetime
from typing import TypedDict

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from shared_apps.common.errors import Conflict, NotFound
from shared_apps.common.validation import InvalidInput
from shared_apps.directory.services import publish_service
from tenant_apps.catalog.models import Closure, DocumentType, MealVariant, Product, Service
from tenants.models import Commune
from tenants.services import assert_on_schema

MAX_PRICE_CENTS = 100_000
MAX_VARIANTS = 20
VARIANT_MAX_LENGTH = 80
HELP_TEXT_MAX_LENGTH = 300
DESCRIPTION_MAX_LENGTH = 4000
MAX_LOW_BALANCE_THRESHOLD_CENTS = 100_000
MAX_DEADLINE_DAYS = 30
MAX_QF_BRACKETS = 6
MAX_QUOTIENT_FAMILIAL = 100_000
MAX_DAILY_CAPACITY = 10_000
CLOSURE_REASON_MAX_LENGTH = 200


class DuplicateName(Conflict):
    code = "duplicate_name"
    message = "Ce nom est déjà utilisé."


class DuplicateClosure(Conflict):
    code = "duplicate_closure"
    message = "Ce service est déjà fermé ce jour-là."


class ClosureInThePast(Conflict):
    code = "closure_in_the_past"
    message = "Cette fermeture est passée : elle reste dans l’historique du service."


class DocumentTypeInUse(Conflict):
    code = "document_type_in_use"
    message = (
        "Des familles ont déjà envoyé cette pièce : rendez-la facultative plutôt que de la "
        "supprimer."
    )


def _publish(commune: Commune, service: Service) -> None:
    publish_service(
        commune=commune,
        service_id=service.pk,
        kind=service.kind,
        name=service.name,
        description=service.description,
        is_active=service.is_active,
    )


# What each use case takes: values already parsed and checked field by field at the edge
# (tenant_apps/catalog/forms.py); only the keys given change.


class ServiceChanges(TypedDict, total=False):
    name: str
    kind: str
    description: str
    is_active: bool
    payment_methods: list[str]
    low_balance_threshold_cents: int | None


class ProductChanges(TypedDict, total=False):
    name: str
    price_cents: int
    description: str
    is_active: bool
    variants: list[str]  # replaces the product's variants, in this order


class DocumentTypeChanges(TypedDict, total=False):
    label: str
    help_text: str
    required: bool
    accepted_formats: list[str]
    code: str  # set once, when the document type has none yet


class BookingRulesChanges(TypedDict, total=False):
    weekdays: list[int]
    opening_period: str
    booking_deadline_kind: str
    booking_deadline_days: int
    booking_deadline_weekday: int
    booking_deadline_time: datetime.time
    cancel_deadline_kind: str
    cancel_deadline_days: int
    cancel_deadline_weekday: int
    cancel_deadline_time: datetime.time
    late_cancellation_refund_percent: int | None
    daily_capacity: int | None
    qf_brackets: list[dict[str, int]]
    sibling_reduction_percent: int
    unbooked_presence: str
    unbooked_price_cents: int | None
    absence_refund_percent: int
    sick_refund_percent: int | None


def save_service(
    *, commune: Commune, service: Service | None = None, changes: ServiceChanges
) -> Service:
    """Create a service (service=None) or change one; publish it to the directory."""
    assert_on_schema(commune)
    service = service or Service()
    for field, value in changes.items():
        setattr(service, field, value)
    try:
        with transaction.atomic():
            service.save()
            _publish(commune, service)
    except IntegrityError as exc:
        raise DuplicateName(
            "Un service porte déjà ce nom.", fields={"name": ["Déjà utilisé."]}
        ) from exc
    return service


def save_product(
    *, commune: Commune, service: Service, product: Product | None = None, changes: ProductChanges
) -> Product:
    """Create or change a bookable product; `variants` (names), when given, replaces the list."""
    assert_on_schema(commune)
    product = product or Product(service=service)
    if product.service_id != service.pk:
        raise NotFound("Produit introuvable.")
    for field in ("name", "price_cents", "description", "is_active"):
        if field in changes:
            setattr(product, field, changes[field])
    variants = changes.get("variants")
    try:
        with transaction.atomic():
            product.save()
            if variants is not None:
                product.variants.exclude(name__in=variants).delete()
                for variant in variants:
                    MealVariant.objects.get_or_create(product=product, name=variant)
    except IntegrityError as exc:
        raise DuplicateName(
            "Un produit de ce service porte déjà ce nom.", fields={"name": ["Déjà utilisé."]}
        ) from exc
    return product


def save_document_type(
    *,
    commune: Commune,
    service: Service,
    document_type: DocumentType | None = None,
    changes: DocumentTypeChanges,
) -> DocumentType:
    """Create or change a supporting document a service asks for.

    Its `code` (what uploads name it by) is set once, when it is created, and never changes.
    """
    assert_on_schema(commune)
    document_type = document_type or DocumentType(service=service)
    if document_type.service_id != service.pk:
        raise NotFound("Pièce introuvable.")
    if not document_type.code:
        document_type.code = changes.get("code") or "piece"
    for field in ("label", "help_text", "required", "accepted_formats"):
        if field in changes:
            setattr(document_type, field, changes[field])
    try:
        with transaction.atomic():
            document_type.save()
    except IntegrityError as exc:
        raise DuplicateName(
            "Ce service demande déjà une pièce avec ce code.", fields={"label": ["Déjà utilisé."]}
        ) from exc
    return document_type


def delete_document_type(*, commune: Commune, document_type: DocumentType) -> None:
    """Refused (Conflict) once families have sent this document: their files keep their type."""
    assert_on_schema(commune)
    try:
        with transaction.atomic():
            document_type.delete()
    except ProtectedError as exc:
        raise DocumentTypeInUse() from exc


# --- Booking rules --------------------------------------------------------------------------


def save_booking_rules(
    *, commune: Commune, product: Product, changes: BookingRulesChanges
) -> Product:
    """Change a product's booking rules: opening days and period, booking and cancellation
    deadlines, what a late cancellation gives back, places per day, prices by quotient familial
    and the sibling reduction; the attendance rules (unbooked presence and its price, absence
    and sick-absence refunds). Only the keys given change."""
    assert_on_schema(commune)
    if changes:
        for field, value in changes.items():
            setattr(product, field, value)
        with transaction.atomic():
            product.save(update_fields=list(changes))
    return product


# --- Closures -------------------------------------------------------------------------------


def add_closure(
    *,
    commune: Commune,
    service: Service,
    day: datetime.date,
    reason: str,
    today: datetime.date | None = None,
) -> Closure:
    """Close a service on a day to come (strike, teachers' training day, works…)."""
    assert_on_schema(commune)
    if day < (today or timezone.localdate()):
        raise InvalidInput(
            fields={"date": ["Ce jour est déjà passé : on ne ferme qu’un jour à venir."]}
        )
    duplicate = DuplicateClosure(fields={"date": [DuplicateClosure.message]})
    if Closure.objects.filter(service=service, date=day).exists():
        raise duplicate
    from tenant_apps.bookings.services.cancellation import cancel_day_for_closure

    try:
        with transaction.atomic():
            closure = Closure.objects.create(service=service, date=day, reason=reason)
            # The commune closes: what families booked that day is cancelled and fully refunded.
            closure.cancelled_reservations = cancel_day_for_closure(  # type: ignore[attr-defined]
                commune=commune, service_id=service.pk, day=day, reason=reason
            )
            return closure
    except IntegrityError as exc:
        if Closure.objects.filter(service=service, date=day).exists():  # added meanwhile
            raise duplicate from exc
        raise


def delete_closure(
    *, commune: Commune, closure: Closure, today: datetime.date | None = None
) -> None:
    """Reopen a closed day; a day already past stays in the service's history."""
    assert_on_schema(commune)
    if closure.date < (today or timezone.localdate()):
        raise ClosureInThePast()
    closure.delete()
