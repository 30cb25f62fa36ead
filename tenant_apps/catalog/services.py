"""Configuring the commune's catalogue (managers). Each change of a service is published to the
platform directory so parents find it."""

from __future__ import annotations

import datetime
import re

from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from shared_apps.common.errors import Conflict, NotFound
from shared_apps.common.money import format_euros
from shared_apps.common.validation import (
    FieldErrors,
    check_required,
    clean_text,
    distinct_choices,
)
from shared_apps.directory.services import publish_service
from tenant_apps.catalog.models import (
    Closure,
    DeadlineKind,
    DocumentType,
    FileFormat,
    MealVariant,
    OpeningPeriod,
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
        methods = distinct_choices(data.get("payment_methods") or [], PaymentMethod.values)
        if not methods:
            errors.add("payment_methods", "Choisissez au moins un moyen de paiement.")
        cleaned["payment_methods"] = methods
    if "low_balance_threshold_cents" in data:
        cleaned["low_balance_threshold_cents"] = _clean_threshold(
            data["low_balance_threshold_cents"], errors
        )
    return cleaned


def _clean_threshold(value, errors: FieldErrors) -> int | None:
    """Empty (or 0, which could never be crossed) means no low-balance e-mail."""
    if value in (None, ""):
        return None
    cents = _as_int(value)
    if cents is None or cents < 0 or cents > MAX_LOW_BALANCE_THRESHOLD_CENTS:
        errors.add(
            "low_balance_threshold_cents",
            f"Le seuil doit être compris entre {format_euros(1)} et "
            f"{format_euros(MAX_LOW_BALANCE_THRESHOLD_CENTS)}, ou rester vide.",
        )
        return None
    return cents or None


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
        formats = distinct_choices(data.get("accepted_formats") or [], FileFormat.values)
        if "accepted_formats" not in data:
            formats = list(FileFormat.values)
        if not formats:
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


# --- Booking rules --------------------------------------------------------------------------


def _as_int(value) -> int | None:
    """An integer, or one typed as text ("12"); None otherwise (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        return int(value)
    return None


def _as_time(value) -> datetime.time | None:
    if isinstance(value, datetime.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str):
        try:
            return datetime.time.fromisoformat(value.strip()).replace(second=0, microsecond=0)
        except ValueError:
            return None
    return None


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return None  # a moment is not a day
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _clean_percent(field: str, value, errors: FieldErrors) -> int | None:
    percent = _as_int(value)
    if percent is None or not 0 <= percent <= 100:
        errors.add(field, "Indiquez un pourcentage entier entre 0 et 100.")
    return percent


def _clean_weekdays(raw, errors: FieldErrors) -> list[int]:
    days = [_as_int(day) for day in raw] if isinstance(raw, list | tuple) else [None]
    if len(days) > 7:
        days = [None]  # seven days in a week: a longer list is not a choice of days
    if any(day is None or not 0 <= day <= 6 for day in days):
        errors.add("weekdays", "Jour de la semaine inconnu.")
        return []
    if not days:
        errors.add("weekdays", "Cochez au moins un jour d’ouverture.")
    return sorted(set(days))


def _clean_deadline(prefix: str, product: Product, data: dict, errors: FieldErrors) -> dict:
    """One deadline (`booking` or `cancel`): its kind, then only the parts that kind uses, so
    a number of days left in the form of a "same day" rule is neither checked nor saved."""
    keys = {part: f"{prefix}_deadline_{part}" for part in ("kind", "days", "weekday", "time")}
    cleaned: dict = {}
    kind = data.get(keys["kind"], getattr(product, keys["kind"]))
    if kind not in DeadlineKind.values:
        errors.add(keys["kind"], "Choisissez quand tombe la limite.")
        return cleaned
    if keys["kind"] in data:
        cleaned[keys["kind"]] = kind
    if kind == DeadlineKind.WORKING_DAYS_BEFORE and keys["days"] in data:
        days = _as_int(data[keys["days"]])
        if days is None or not 0 <= days <= MAX_DEADLINE_DAYS:
            errors.add(
                keys["days"],
                f"Indiquez un nombre de jours ouvrés entre 0 et {MAX_DEADLINE_DAYS}.",
            )
        cleaned[keys["days"]] = days
    if kind == DeadlineKind.WEEKDAY_BEFORE and keys["weekday"] in data:
        weekday = _as_int(data[keys["weekday"]])
        if weekday is None or not 0 <= weekday <= 6:
            errors.add(keys["weekday"], "Choisissez un jour de la semaine.")
        cleaned[keys["weekday"]] = weekday
    if keys["time"] in data:
        time = _as_time(data[keys["time"]])
        if time is None:
            errors.add(keys["time"], "Heure invalide : indiquez une heure comme 12:00.")
        cleaned[keys["time"]] = time
    return cleaned


def _clean_capacity(value, errors: FieldErrors) -> int | None:
    if value in (None, ""):
        return None  # unlimited
    places = _as_int(value)
    if places is None or not 1 <= places <= MAX_DAILY_CAPACITY:
        most = f"{MAX_DAILY_CAPACITY:,}".replace(",", "\u202f")
        errors.add(
            "daily_capacity",
            f"Indiquez un nombre de places entre 1 et {most}, ou laissez vide (illimité).",
        )
    return places


def _clean_qf_brackets(raw, errors: FieldErrors) -> list[dict]:
    """[{"max_qf": 600, "price_cents": 120}, …]: strictly ascending ceilings, at most six.

    Errors name the bracket (`qf_brackets.<index>.max_qf`) so a form can show them on its row.
    """
    if not isinstance(raw, list | tuple) or any(not isinstance(b, dict) for b in raw):
        errors.add("qf_brackets", "Tranches de quotient familial illisibles.")
        return []
    if len(raw) > MAX_QF_BRACKETS:
        errors.add("qf_brackets", f"{MAX_QF_BRACKETS} tranches de quotient familial au plus.")
    brackets: list[dict] = []
    previous: int | None = None
    for index, bracket in enumerate(raw):
        max_qf, price = _as_int(bracket.get("max_qf")), _as_int(bracket.get("price_cents"))
        if max_qf is None or not 0 <= max_qf <= MAX_QUOTIENT_FAMILIAL:
            errors.add(
                f"qf_brackets.{index}.max_qf",
                f"Indiquez un quotient familial entier entre 0 et {MAX_QUOTIENT_FAMILIAL}.",
            )
        elif previous is not None and max_qf == previous:
            errors.add(
                f"qf_brackets.{index}.max_qf",
                f"Deux tranches ont le même plafond ({max_qf}) : gardez-en une seule.",
            )
        elif previous is not None and max_qf < previous:
            errors.add(
                f"qf_brackets.{index}.max_qf",
                f"Les tranches vont du plus petit quotient au plus grand : ce plafond doit "
                f"dépasser celui de la tranche précédente ({previous}).",
            )
        if price is None or not 0 <= price <= MAX_PRICE_CENTS:
            errors.add(
                f"qf_brackets.{index}.price_cents",
                f"Le prix doit être compris entre {format_euros(0)} et "
                f"{format_euros(MAX_PRICE_CENTS)}.",
            )
        if max_qf is not None:
            previous = max_qf if previous is None else max(previous, max_qf)
        brackets.append({"max_qf": max_qf, "price_cents": price})
    return brackets


def save_booking_rules(*, product: Product, data: dict) -> Product:
    """Change a product's booking rules: opening days and period, booking and cancellation
    deadlines, what a late cancellation gives back, places per day, prices by quotient familial
    and the sibling reduction. Only the keys given change; on any error, nothing does."""
    errors = FieldErrors()
    cleaned: dict = {}
    if "weekdays" in data:
        cleaned["weekdays"] = _clean_weekdays(data["weekdays"], errors)
    if "opening_period" in data:
        if data["opening_period"] not in OpeningPeriod.values:
            errors.add(
                "opening_period",
                "Choisissez la période : jours d’école, vacances scolaires ou toute l’année.",
            )
        cleaned["opening_period"] = data["opening_period"]
    cleaned.update(_clean_deadline("booking", product, data, errors))
    cleaned.update(_clean_deadline("cancel", product, data, errors))
    if "late_cancellation_refund_percent" in data:
        # None: no longer cancellable after the deadline; 0: cancellable, nothing refunded.
        late = data["late_cancellation_refund_percent"]
        cleaned["late_cancellation_refund_percent"] = (
            None
            if late is None
            else _clean_percent("late_cancellation_refund_percent", late, errors)
        )
    if "daily_capacity" in data:
        cleaned["daily_capacity"] = _clean_capacity(data["daily_capacity"], errors)
    if "qf_brackets" in data:
        cleaned["qf_brackets"] = _clean_qf_brackets(data["qf_brackets"] or [], errors)
    if "sibling_reduction_percent" in data:
        cleaned["sibling_reduction_percent"] = _clean_percent(
            "sibling_reduction_percent", data["sibling_reduction_percent"] or 0, errors
        )
    errors.raise_if_any("Les règles n’ont pas été enregistrées : corrigez les erreurs signalées.")
    if cleaned:
        for field, value in cleaned.items():
            setattr(product, field, value)
        with transaction.atomic():
            product.save(update_fields=list(cleaned))
    return product


# --- Closures -------------------------------------------------------------------------------


def add_closure(*, service: Service, data: dict, today: datetime.date | None = None) -> Closure:
    """Close a service on a day to come (strike, teachers' training day, works…)."""
    today = today or timezone.localdate()
    errors = FieldErrors()
    day = _as_date(data.get("date"))
    if day is None:
        errors.add("date", "Indiquez le jour de fermeture, par exemple 12/03/2027.")
    elif day < today:
        errors.add("date", "Ce jour est déjà passé : on ne ferme qu’un jour à venir.")
    reason = clean_text(data.get("reason"), max_length=CLOSURE_REASON_MAX_LENGTH)
    check_required(errors, "reason", reason, "Motif", CLOSURE_REASON_MAX_LENGTH)
    errors.raise_if_any()
    duplicate = DuplicateClosure(fields={"date": [DuplicateClosure.message]})
    if Closure.objects.filter(service=service, date=day).exists():
        raise duplicate
    from tenant_apps.bookings.services.cancellation import cancel_day_for_closure

    try:
        with transaction.atomic():
            closure = Closure.objects.create(service=service, date=day, reason=reason)
            # The commune closes: what families booked that day is cancelled and fully refunded.
            closure.cancelled_reservations = cancel_day_for_closure(
                commune=connection.tenant, service_id=service.pk, day=day, reason=reason
            )
            return closure
    except IntegrityError as exc:
        if Closure.objects.filter(service=service, date=day).exists():  # added meanwhile
            raise duplicate from exc
        raise


def delete_closure(*, closure: Closure, today: datetime.date | None = None) -> None:
    """Reopen a closed day; a day already past stays in the service's history."""
    if closure.date < (today or timezone.localdate()):
        raise ClosureInThePast()
    closure.delete()
