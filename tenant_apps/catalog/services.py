"""Configuring the commune's catalogue (managers). Each change of a service is published to the
platform directory so parents find it."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from shared_apps.common.errors import Conflict, NotFound
from shared_apps.common.money import format_euros
from shared_apps.common.validation import FieldErrors, check_required, clean_text
from shared_apps.directory.services import publish_service
from tenant_apps.catalog.models import (
    DocumentType,
    FileFormat,
    MealVariant,
    PaymentMethod,
    Product,
    Service,
    ServiceKind,
)

MAX_PRICE_CENTS = 100_000
MAX_VARIANTS = 20
VARIANT_MAX_LENGTH = 80
HELP_TEXT_MAX_LENGTH = 300
DESCRIPTION_MAX_LENGTH = 4000


class DuplicateName(Conflict):
    code = "duplicate_name"
    message = "Ce nom est déjà utilisé."


class DocumentTypeInUse(Conflict):
    code = "document_type_in_use"
    message = (
        "Des familles ont déjà envoyé cette pièce : rendez-la facultative plutôt que de la "
        "supprimer."
    )


def _current_commune():
    commune = connection.tenant
    assert getattr(commune, "pk", None), "catalog services run inside a commune's schema"
    return commune


def _publish(service: Service) -> None:
    publish_service(
        commune=_current_commune(),
        service_id=service.pk,
        kind=service.kind,
        name=service.name,
        description=service.description,
        is_active=service.is_active,
    )


def _clean_description(data: dict, errors: FieldErrors) -> str:
    description = (data.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        errors.add("description", f"Description : {DESCRIPTION_MAX_LENGTH} caractères au maximum.")
    return description


def _clean_service(data: dict, errors: FieldErrors, *, partial: bool) -> dict:
    cleaned: dict = {}
    if "name" in data or not partial:
        cleaned["name"] = clean_text(data.get("name"), max_length=120)
        check_required(errors, "name", cleaned["name"], "Nom", 120)
    if "kind" in data or not partial:
        if data.get("kind") not in ServiceKind.values:
            errors.add(
                "kind", "Type inconnu : cantine, garderie, périscolaire ou centre de loisirs."
            )
        cleaned["kind"] = data.get("kind")
    if "description" in data:
        cleaned["description"] = _clean_description(data, errors)
    if "is_active" in data:
        cleaned["is_active"] = bool(data["is_active"])
    if "payment_methods" in data or not partial:
        methods = list(dict.fromkeys(data.get("payment_methods") or []))
        if not methods or any(m not in PaymentMethod.values for m in methods):
            errors.add("payment_methods", "Choisissez au moins un moyen de paiement.")
        cleaned["payment_methods"] = methods
    return cleaned


def save_service(*, service: Service | None = None, data: dict) -> Service:
    """Create a service (service=None) or change one; publish it to the directory."""
    errors = FieldErrors()
    cleaned = _clean_service(data, errors, partial=service is not None)
    errors.raise_if_any()
    service = service or Service()
    for field, value in cleaned.items():
        setattr(service, field, value)
    try:
        with transaction.atomic():
            service.save()
            _publish(service)
    except IntegrityError as exc:
        raise DuplicateName(
            "Un service porte déjà ce nom.", fields={"name": ["Déjà utilisé."]}
        ) from exc
    return service


def _clean_variants(variants, errors: FieldErrors) -> list[str] | None:
    """None keeps the product's variants; a list replaces them (blank names are dropped)."""
    if variants is None:
        return None
    names = list(dict.fromkeys(clean_text(v, max_length=VARIANT_MAX_LENGTH) for v in variants))
    names = [name for name in names if name]
    if any(len(name) > VARIANT_MAX_LENGTH for name in names):
        errors.add(
            "variants", f"Variante : {VARIANT_MAX_LENGTH} caractères au maximum par variante."
        )
    if len(names) > MAX_VARIANTS:
        errors.add("variants", f"{MAX_VARIANTS} variantes au maximum.")
    return names


def save_product(*, service: Service, product: Product | None = None, data: dict) -> Product:
    """Create or change a bookable product; `variants` (names), when given, replaces the list."""
    errors = FieldErrors()
    name = clean_text(data.get("name", product.name if product else ""), max_length=120)
    check_required(errors, "name", name, "Nom", 120)
    price = data.get("price_cents", product.price_cents if product else 0)
    try:
        if isinstance(price, bool):
            raise TypeError
        price = int(price)
        if price < 0 or price > MAX_PRICE_CENTS:
            raise ValueError
    except (TypeError, ValueError):
        errors.add(
            "price_cents",
            f"Le prix doit être compris entre {format_euros(0)} et "
            f"{format_euros(MAX_PRICE_CENTS)}.",
        )
    description = _clean_description(data, errors) if "description" in data else None
    variants = _clean_variants(data.get("variants"), errors)
    errors.raise_if_any()
    product = product or Product(service=service)
    if product.service_id != service.pk:
        raise NotFound("Produit introuvable.")
    product.name, product.price_cents = name, price
    if description is not None:
        product.description = description
    if "is_active" in data:
        product.is_active = bool(data["is_active"])
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
    *, service: Service, document_type: DocumentType | None = None, data: dict
) -> DocumentType:
    """Create or change a supporting document a service asks for.

    Its `code` (what uploads name it by) is set once, from `code` or the label, and never changes.
    """
    errors = FieldErrors()
    label = clean_text(
        data.get("label", document_type.label if document_type else ""), max_length=120
    )
    check_required(errors, "label", label, "Intitulé", 120)
    if "accepted_formats" in data or document_type is None:
        formats = list(dict.fromkeys(data.get("accepted_formats") or []))
        if "accepted_formats" not in data:
            formats = list(FileFormat.values)
        if not formats or any(f not in FileFormat.values for f in formats):
            errors.add("accepted_formats", "Choisissez au moins un format : PDF, JPEG ou PNG.")
    else:
        formats = document_type.accepted_formats
    help_text = clean_text(
        data.get("help_text", document_type.help_text if document_type else ""),
        max_length=HELP_TEXT_MAX_LENGTH,
    )
    if len(help_text) > HELP_TEXT_MAX_LENGTH:
        errors.add("help_text", f"Aide : {HELP_TEXT_MAX_LENGTH} caractères au maximum.")
    errors.raise_if_any()
    document_type = document_type or DocumentType(service=service)
    if document_type.service_id != service.pk:
        raise NotFound("Pièce introuvable.")
    if not document_type.code:
        document_type.code = slugify(data.get("code") or label)[:40].strip("-") or "piece"
    document_type.label = label
    document_type.help_text = help_text
    if "required" in data:
        document_type.required = bool(data["required"])
    document_type.accepted_formats = formats
    try:
        with transaction.atomic():
            document_type.save()
    except IntegrityError as exc:
        raise DuplicateName(
            "Ce service demande déjà une pièce avec ce code.", fields={"label": ["Déjà utilisé."]}
        ) from exc
    return document_type


def delete_document_type(*, document_type: DocumentType) -> None:
    """Refused (Conflict) once families have sent this document: their files keep their type."""
    try:
        with transaction.atomic():
            document_type.delete()
    except ProtectedError as exc:
        raise DocumentTypeInUse() from exc
