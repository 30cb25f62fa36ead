"""Configuring the commune's catalogue (managers). Each change of a service is published to the
platform directory so parents find it."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from shared_apps.common.errors import Conflict, NotFound
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


class DuplicateName(Conflict):
    code = "duplicate_name"
    message = "Ce nom est déjà utilisé."


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
        cleaned["description"] = (data.get("description") or "").strip()[:4000]
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


def save_product(*, service: Service, product: Product | None = None, data: dict) -> Product:
    errors = FieldErrors()
    name = clean_text(data.get("name", product.name if product else ""), max_length=120)
    check_required(errors, "name", name, "Nom", 120)
    price = data.get("price_cents", product.price_cents if product else 0)
    try:
        price = int(price)
        if price < 0 or price > 100_000:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("price_cents", "Prix en centimes entre 0 et 100000 (1 000,00 €).")
    errors.raise_if_any()
    product = product or Product(service=service)
    if product.service_id != service.pk:
        raise NotFound("Produit introuvable.")
    product.name, product.price_cents = name, price
    if "description" in data:
        product.description = (data.get("description") or "").strip()[:4000]
    if "is_active" in data:
        product.is_active = bool(data["is_active"])
    variants = data.get("variants")
    try:
        with transaction.atomic():
            product.save()
            if variants is not None:
                names = [
                    clean_text(v, max_length=80) for v in variants if clean_text(v, max_length=80)
                ]
                product.variants.exclude(name__in=names).delete()
                for variant in dict.fromkeys(names):
                    MealVariant.objects.get_or_create(product=product, name=variant[:80])
    except IntegrityError as exc:
        raise DuplicateName(
            "Un produit de ce service porte déjà ce nom.", fields={"name": ["Déjà utilisé."]}
        ) from exc
    return product


def save_document_type(
    *, service: Service, document_type: DocumentType | None = None, data: dict
) -> DocumentType:
    from django.utils.text import slugify

    errors = FieldErrors()
    label = clean_text(
        data.get("label", document_type.label if document_type else ""), max_length=120
    )
    check_required(errors, "label", label, "Intitulé", 120)
    formats = list(dict.fromkeys(data.get("accepted_formats") or FileFormat.values))
    if any(f not in FileFormat.values for f in formats):
        errors.add("accepted_formats", "Formats possibles : PDF, JPEG, PNG.")
    errors.raise_if_any()
    document_type = document_type or DocumentType(service=service)
    if document_type.service_id != service.pk:
        raise NotFound("Pièce introuvable.")
    if not document_type.code:
        document_type.code = (data.get("code") or slugify(label))[:40] or "piece"
    document_type.label = label
    document_type.help_text = clean_text(
        data.get("help_text", document_type.help_text), max_length=300
    )[:300]
    document_type.required = bool(data.get("required", document_type.required))
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
    from django.db.models import ProtectedError

    try:
        with transaction.atomic():
            document_type.delete()
    except ProtectedError as exc:
        raise Conflict(
            "Des familles ont déjà envoyé cette pièce : rendez-la facultative plutôt que de la "
            "supprimer."
        ) from exc
