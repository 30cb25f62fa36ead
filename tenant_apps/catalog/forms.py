"""Back-office forms of the catalogue, and the parsers that turn what managers typed into the
typed changes services.py takes (field by field checks and French messages live here; the
rules that need the database or the day — duplicates, dates past — live in services.py)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.text import slugify

from shared_apps.common.errors import DomainError
from shared_apps.common.money import format_euros, parse_euros
from shared_apps.common.validation import (
    FieldErrors,
    check_required,
    clean_text,
    distinct_choices,
    parse_date,
    parse_int,
)
from tenant_apps.bookings.rules import WEEKDAY_NAMES
from tenant_apps.catalog.models import (
    DeadlineKind,
    DocumentType,
    FileFormat,
    OpeningPeriod,
    PaymentMethod,
    Product,
    ServiceKind,
    UnbookedPresence,
)
from tenant_apps.catalog.services import (
    CLOSURE_REASON_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    HELP_TEXT_MAX_LENGTH,
    MAX_DAILY_CAPACITY,
    MAX_DEADLINE_DAYS,
    MAX_LOW_BALANCE_THRESHOLD_CENTS,
    MAX_PRICE_CENTS,
    MAX_QF_BRACKETS,
    MAX_QUOTIENT_FAMILIAL,
    MAX_VARIANTS,
    VARIANT_MAX_LENGTH,
    BookingRulesChanges,
    DocumentTypeChanges,
    ProductChanges,
    ServiceChanges,
)


class EurosField(forms.CharField):
    """A price typed in euros ("3,80", "3.80", "3", "3,80 €") cleaned to integer cents (380)."""

    default_error_messages = {
        "invalid": "Montant invalide : indiquez un prix en euros, par exemple 3,80.",
        "negative": "Le prix ne peut pas être négatif.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        # Initial values are cents, shown as typed ("3,80"); what the browser sent stays as is.
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value // 100},{value % 100:02d}"
        return value

    def clean(self, value):
        text = super().clean(value)
        if text in self.empty_values:
            return None
        cents = parse_euros(text)
        if cents is None:
            code = "negative" if text.lstrip().startswith("-") else "invalid"
            raise forms.ValidationError(self.error_messages[code], code=code)
        return cents


class ServiceForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type de service", choices=[("", "— Choisir —"), *ServiceKind.choices]
    )
    name = forms.CharField(
        label="Nom du service",
        max_length=120,
        help_text="Court : les familles le liront suivi du nom de la commune, par exemple "
        "« Cantine de Baneins » dans leur porte-monnaie.",
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    payment_methods = forms.MultipleChoiceField(
        label="Moyens de paiement acceptés",
        choices=PaymentMethod.choices,
        required=False,  # the service says "at least one", with the other errors
        widget=forms.CheckboxSelectMultiple,
    )
    low_balance_threshold_cents = EurosField(
        label="Seuil d’alerte du porte-monnaie (en euros)",
        required=False,
        help_text="Un e-mail prévient la famille quand son crédit pour ce service passe sous ce "
        "montant, par exemple 10. Laissez vide pour ne pas prévenir.",
        error_messages={
            "invalid": "Montant invalide : indiquez un montant en euros, par exemple 10.",
            "negative": "Le seuil ne peut pas être négatif.",
        },
    )
    is_active = forms.BooleanField(
        label="Service actif (visible des familles)", required=False, initial=True
    )


def _split_variants(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n,;]", text or "") if part.strip()]


class ProductForm(forms.Form):
    name = forms.CharField(
        label="Nom du produit",
        max_length=120,
        help_text="Par exemple : « Réservation repas cantine », « Garderie matin ».",
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    price_cents = EurosField(
        label="Prix unitaire (en euros)",
        help_text="Par exemple : 3,80. Indiquez 0 pour un produit gratuit.",
    )
    variants = forms.CharField(
        label="Variantes de repas",
        required=False,
        max_length=2000,
        help_text="Une par ligne ou séparées par des virgules, par exemple : Standard, "
        "Sans viande, PAI (panier repas). Laissez vide s’il n’y a pas de choix.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_active = forms.BooleanField(label="Produit actif (réservable)", required=False, initial=True)

    def clean_variants(self) -> list[str]:
        return _split_variants(self.cleaned_data.get("variants", ""))


class DocumentTypeForm(forms.Form):
    label = forms.CharField(
        label="Intitulé de la pièce",
        max_length=120,
        help_text="Par exemple : « Justificatif de domicile ».",
    )
    help_text = forms.CharField(
        label="Aide pour les familles",
        required=False,
        max_length=300,
        help_text="Par exemple : « Facture d’énergie de moins de 3 mois ».",
    )
    required = forms.BooleanField(label="Pièce obligatoire", required=False, initial=True)
    accepted_formats = forms.MultipleChoiceField(
        label="Formats acceptés",
        choices=FileFormat.choices,
        required=False,  # the service says "at least one"
        initial=list(FileFormat.values),
        widget=forms.CheckboxSelectMultiple,
    )


# --- Booking rules --------------------------------------------------------------------------

WEEKDAY_CHOICES = [(day, name.capitalize()) for day, name in enumerate(WEEKDAY_NAMES)]
DEADLINE_KIND_CHOICES = [
    (DeadlineKind.WORKING_DAYS_BEFORE, "Un nombre de jours ouvrés avant le jour réservé"),
    (DeadlineKind.WEEKDAY_BEFORE, "Un jour donné de la semaine précédente"),
    (DeadlineKind.SAME_DAY, "Le jour même"),
]
LATE_NOT_CANCELLABLE, LATE_NO_REFUND, LATE_PARTIAL = "not_cancellable", "no_refund", "partial"
LATE_CANCELLATION_CHOICES = [
    (LATE_NOT_CANCELLABLE, "Plus annulable après la limite"),
    (LATE_NO_REFUND, "Annulable sans remboursement"),
    (LATE_PARTIAL, "Annulable avec un remboursement partiel"),
]
SICK_NO_REFUND, SICK_REFUND = "no_refund", "refund"
SICK_ABSENCE_CHOICES = [
    (SICK_NO_REFUND, "Le certificat médical ne change rien"),
    (SICK_REFUND, "Remboursée sur certificat médical"),
]
UNBOOKED_CHOICES = [
    (UnbookedPresence.REFUSED, "Non acceptée : l’agent ne peut pas ajouter un enfant non réservé"),
    (UnbookedPresence.BILLED, "Acceptée et facturée à la famille"),
]
QF_ROWS = range(1, 7)
# Times as managers write them: "12:00" (what the browser's time field sends), "12h", "12 h 30".
TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%Hh%M", "%Hh", "%H h %M", "%H h", "%H"]


def _small(**attrs) -> dict:
    return {"class": "small-input", **attrs}


def _deadline_fields(prefix: str, what: str) -> dict[str, forms.Field]:
    """Kind, number of working days, weekday and time of one deadline (`what`: "réservation"
    or "annulation", so that each label still makes sense in the error summary)."""
    return {
        f"{prefix}_deadline_kind": forms.ChoiceField(
            label=f"Limite ({what})", choices=DEADLINE_KIND_CHOICES
        ),
        f"{prefix}_deadline_days": forms.IntegerField(
            label=f"Nombre de jours ouvrés avant ({what})",
            required=False,
            help_text="Jours ouvrés : du lundi au vendredi, hors jours fériés. 0 : le jour même.",
            widget=forms.NumberInput(attrs=_small(min=0, max=30)),
        ),
        f"{prefix}_deadline_weekday": forms.TypedChoiceField(
            label=f"Jour de la semaine précédente ({what})",
            choices=WEEKDAY_CHOICES,
            coerce=int,
            required=False,
            empty_value=None,
            help_text="Seulement pour « un jour donné de la semaine précédente ».",
        ),
        f"{prefix}_deadline_time": forms.TimeField(
            label=f"Heure limite ({what})",
            required=False,
            input_formats=TIME_FORMATS,
            help_text="Heure de Paris, par exemple 12:00.",
            widget=forms.TimeInput(format="%H:%M", attrs=_small(type="time")),
        ),
    }


class BookingRulesForm(forms.Form):
    """A product's booking rules in plain French; `booking_rules()` gives what
    services.save_booking_rules expects, and `add_service_error()` puts its errors back on the
    right inputs (a price-bracket error on its own row)."""

    weekdays = forms.TypedMultipleChoiceField(
        label="Jours d’ouverture",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,  # the service says "at least one", with the other errors
        widget=forms.CheckboxSelectMultiple,
    )
    opening_period = forms.ChoiceField(
        label="Période", choices=OpeningPeriod.choices, widget=forms.RadioSelect
    )
    late_cancellation = forms.ChoiceField(
        label="Après la limite d’annulation",
        choices=LATE_CANCELLATION_CHOICES,
        widget=forms.RadioSelect,
    )
    late_cancellation_refund_percent = forms.IntegerField(
        label="Part remboursée (en %)",
        required=False,
        help_text="Pour un remboursement partiel, par exemple 50.",
        widget=forms.NumberInput(attrs=_small(min=0, max=100)),
    )
    daily_capacity = forms.IntegerField(
        label="Places par jour",
        required=False,
        help_text="Laissez vide si le nombre de places est illimité.",
        widget=forms.NumberInput(attrs=_small(min=1)),
    )
    sibling_reduction_percent = forms.IntegerField(
        label="Réduction fratrie (en %)",
        required=False,
        help_text="Appliquée à partir du 2e enfant de la famille inscrit le même jour. "
        "Vide ou 0 : pas de réduction.",
        widget=forms.NumberInput(attrs=_small(min=0, max=100)),
    )

    unbooked_presence = forms.ChoiceField(
        label="Enfant présent sans réservation",
        choices=UNBOOKED_CHOICES,
        widget=forms.RadioSelect,
        required=False,  # not sent: unchanged
    )
    unbooked_price_cents = EurosField(
        label="Prix d’une présence sans réservation (en euros)",
        required=False,
        help_text="Vide : le prix du produit. Payé par le porte-monnaie de la famille pour ce "
        "service, ou ajouté à sa prochaine facture s’il n’y a pas assez de crédit.",
        widget=forms.TextInput(attrs=_small(inputmode="decimal", autocomplete="off")),
    )
    absence_refund_percent = forms.IntegerField(
        label="Absence : part remboursée (en %)",
        required=False,
        help_text="Vide ou 0 : une absence n’est pas remboursée ; 100 : remboursée en entier.",
        widget=forms.NumberInput(attrs=_small(min=0, max=100)),
    )
    sick_absence = forms.ChoiceField(
        label="Absence pour maladie",
        choices=SICK_ABSENCE_CHOICES,
        widget=forms.RadioSelect,
        required=False,  # not sent: unchanged
    )
    sick_refund_percent = forms.IntegerField(
        label="Maladie avec certificat : part remboursée (en %)",
        required=False,
        help_text="Par exemple 100. Le certificat est déposé par la famille ou par un agent.",
        widget=forms.NumberInput(attrs=_small(min=0, max=100)),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_deadline_fields("booking", "réservation"))
        self.fields.update(_deadline_fields("cancel", "annulation"))
        for row in QF_ROWS:
            self.fields[f"qf_max_{row}"] = forms.IntegerField(
                label=f"Tranche {row} : quotient familial jusqu’à",
                required=False,
                widget=forms.NumberInput(attrs=_small(min=0)),
            )
            self.fields[f"qf_price_{row}"] = EurosField(
                label=f"Tranche {row} : prix (en euros)",
                required=False,
                widget=forms.TextInput(attrs=_small(inputmode="decimal", autocomplete="off")),
            )
        self.bracket_rows: list[int] = []

    @staticmethod
    def initial_for(product: Product) -> dict:
        late = product.late_cancellation_refund_percent
        initial = {
            "weekdays": product.weekdays,
            "opening_period": product.opening_period,
            "late_cancellation": (
                LATE_NOT_CANCELLABLE
                if late is None
                else LATE_NO_REFUND
                if late == 0
                else LATE_PARTIAL
            ),
            "late_cancellation_refund_percent": late or None,
            "daily_capacity": product.daily_capacity,
            "sibling_reduction_percent": product.sibling_reduction_percent,
            "unbooked_presence": product.unbooked_presence,
            "unbooked_price_cents": product.unbooked_price_cents,
            "absence_refund_percent": product.absence_refund_percent,
            "sick_absence": SICK_NO_REFUND if product.sick_refund_percent is None else SICK_REFUND,
            "sick_refund_percent": product.sick_refund_percent,
        }
        for prefix in ("booking", "cancel"):
            for part in ("kind", "days", "weekday", "time"):
                key = f"{prefix}_deadline_{part}"
                initial[key] = getattr(product, key)
        for row, bracket in zip(QF_ROWS, product.qf_brackets or [], strict=False):
            initial[f"qf_max_{row}"] = bracket.get("max_qf")
            initial[f"qf_price_{row}"] = bracket.get("price_cents")
        return initial

    def deadline_fields(self, prefix: str) -> list[forms.BoundField]:
        return [self[f"{prefix}_deadline_{part}"] for part in ("kind", "days", "weekday", "time")]

    @property
    def booking_deadline_fields(self) -> list[forms.BoundField]:
        return self.deadline_fields("booking")

    @property
    def cancel_deadline_fields(self) -> list[forms.BoundField]:
        return self.deadline_fields("cancel")

    @property
    def qf_rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        return [(row, self[f"qf_max_{row}"], self[f"qf_price_{row}"]) for row in QF_ROWS]

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("late_cancellation") == LATE_PARTIAL
            and cleaned.get("late_cancellation_refund_percent") is None
            and "late_cancellation_refund_percent" not in self.errors
        ):
            self.add_error("late_cancellation_refund_percent", "Indiquez la part remboursée, en %.")
        if (
            cleaned.get("sick_absence") == SICK_REFUND
            and cleaned.get("sick_refund_percent") is None
            and "sick_refund_percent" not in self.errors
        ):
            self.add_error("sick_refund_percent", "Indiquez la part remboursée, en %.")
        for row in QF_ROWS:
            max_key, price_key = f"qf_max_{row}", f"qf_price_{row}"
            if max_key in self.errors or price_key in self.errors:
                continue
            max_qf, price = cleaned.get(max_key), cleaned.get(price_key)
            if max_qf is None and price is None:
                continue  # an empty row
            if max_qf is None:
                self.add_error(max_key, "Indiquez le quotient familial de cette tranche.")
            elif price is None:
                self.add_error(price_key, "Indiquez le prix de cette tranche.")
        return cleaned

    def booking_rules(self) -> dict:
        """What was typed, as services.save_booking_rules reads it (call once the form is valid)."""
        data = dict(self.cleaned_data)
        late = data.pop("late_cancellation")
        if late == LATE_NOT_CANCELLABLE:
            data["late_cancellation_refund_percent"] = None
        elif late == LATE_NO_REFUND:
            data["late_cancellation_refund_percent"] = 0
        self.bracket_rows = []
        brackets = []
        for row in QF_ROWS:
            max_qf, price = data.pop(f"qf_max_{row}"), data.pop(f"qf_price_{row}")
            if max_qf is not None or price is not None:
                self.bracket_rows.append(row)
                brackets.append({"max_qf": max_qf, "price_cents": price})
        data["qf_brackets"] = brackets
        # The attendance rules change only when their inputs were sent (older clients of this
        # form, and tests, post only the booking rules).
        sick = data.pop("sick_absence")
        if sick == SICK_NO_REFUND:
            data["sick_refund_percent"] = None
        elif not sick:
            data.pop("sick_refund_percent")
        if not data["unbooked_presence"]:
            data.pop("unbooked_presence")
            if "unbooked_price_cents" not in self.data:
                data.pop("unbooked_price_cents")
        if "absence_refund_percent" in self.data:
            data["absence_refund_percent"] = data["absence_refund_percent"] or 0
        else:
            data.pop("absence_refund_percent")
        return data

    def add_service_error(self, error: DomainError) -> None:
        """Show the service's errors on their inputs; `qf_brackets.<i>.<part>` on its row."""
        for key, messages in error.fields.items():
            target = key if key in self.fields else None
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "qf_brackets" and parts[1].isdigit():
                index = int(parts[1])
                if index < len(self.bracket_rows):
                    column = "qf_max" if parts[2] == "max_qf" else "qf_price"
                    target = f"{column}_{self.bracket_rows[index]}"
            for message in messages:
                self.add_error(target, message)
        if not error.fields:
            self.add_error(None, error.message)


class ClosureForm(forms.Form):
    date = forms.DateField(
        label="Jour de fermeture",
        help_text="Par exemple 12/03/2027.",
        widget=forms.DateInput(format="%Y-%m-%d", attrs=_small(type="date")),
    )
    reason = forms.CharField(
        label="Motif",
        max_length=200,
        help_text="Par exemple « Journée pédagogique », « Grève » ou « Travaux ».",
    )


# --- What managers send, parsed once --------------------------------------------------------
# Each parser reads a mapping (a form's cleaned_data, or any client's data), checks every field
# and raises InvalidInput with all the errors at once, or returns the typed changes.


def _clean_description(data: Mapping[str, Any], errors: FieldErrors) -> str:
    description = (data.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        errors.add("description", f"Description : {DESCRIPTION_MAX_LENGTH} caractères au maximum.")
    return description


def _clean_threshold(value: object, errors: FieldErrors) -> int | None:
    """Empty (or 0, which could never be crossed) means no low-balance e-mail."""
    if value in (None, ""):
        return None
    cents = parse_int(value)
    if cents is None or cents < 0 or cents > MAX_LOW_BALANCE_THRESHOLD_CENTS:
        errors.add(
            "low_balance_threshold_cents",
            f"Le seuil doit être compris entre {format_euros(1)} et "
            f"{format_euros(MAX_LOW_BALANCE_THRESHOLD_CENTS)}, ou rester vide.",
        )
        return None
    return cents or None


def service_changes(data: Mapping[str, Any], *, partial: bool) -> ServiceChanges:
    """A service's fields; `partial` (a change) checks only the keys given."""
    errors = FieldErrors()
    cleaned: ServiceChanges = {}
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
    errors.raise_if_any()
    return cleaned


def _clean_variants(variants: object, errors: FieldErrors) -> list[str] | None:
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


def product_changes(data: Mapping[str, Any], *, product: Product | None) -> ProductChanges:
    """A product's fields; name and price default to the product's (or none and 0)."""
    errors = FieldErrors()
    name = clean_text(data.get("name", product.name if product else ""), max_length=120)
    check_required(errors, "name", name, "Nom", 120)
    price = parse_int(data.get("price_cents", product.price_cents if product else 0))
    if price is None or price < 0 or price > MAX_PRICE_CENTS:
        errors.add(
            "price_cents",
            f"Le prix doit être compris entre {format_euros(0)} et "
            f"{format_euros(MAX_PRICE_CENTS)}.",
        )
    description = _clean_description(data, errors) if "description" in data else None
    variants = _clean_variants(data.get("variants"), errors)
    errors.raise_if_any()
    assert price is not None
    changes: ProductChanges = {"name": name, "price_cents": price}
    if description is not None:
        changes["description"] = description
    if "is_active" in data:
        changes["is_active"] = bool(data["is_active"])
    if variants is not None:
        changes["variants"] = variants
    return changes


def document_type_changes(
    data: Mapping[str, Any], *, document_type: DocumentType | None
) -> DocumentTypeChanges:
    """A supporting document's fields; its `code` comes from `code` or the label."""
    errors = FieldErrors()
    label = clean_text(
        data.get("label", document_type.label if document_type else ""), max_length=120
    )
    check_required(errors, "label", label, "Intitulé", 120)
    formats: list[str] | None
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
    changes: DocumentTypeChanges = {
        "label": label,
        "help_text": help_text,
        "accepted_formats": list(formats or []),
        "code": slugify(data.get("code") or label)[:40].strip("-") or "piece",
    }
    if "required" in data:
        changes["required"] = bool(data["required"])
    return changes


def _parse_time(value: object) -> datetime.time | None:
    if isinstance(value, datetime.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str):
        try:
            return datetime.time.fromisoformat(value.strip()).replace(second=0, microsecond=0)
        except ValueError:
            return None
    return None


def _clean_percent(field: str, value: object, errors: FieldErrors) -> int | None:
    percent = parse_int(value)
    if percent is None or not 0 <= percent <= 100:
        errors.add(field, "Indiquez un pourcentage entier entre 0 et 100.")
    return percent


def _clean_weekdays(raw: object, errors: FieldErrors) -> list[int]:
    days = [parse_int(day) for day in raw] if isinstance(raw, list | tuple) else [None]
    if len(days) > 7:
        days = [None]  # seven days in a week: a longer list is not a choice of days
    if any(day is None or not 0 <= day <= 6 for day in days):
        errors.add("weekdays", "Jour de la semaine inconnu.")
        return []
    if not days:
        errors.add("weekdays", "Cochez au moins un jour d’ouverture.")
    return sorted(set(days))


def _clean_deadline(
    prefix: str, product: Product, data: Mapping[str, Any], errors: FieldErrors
) -> dict[str, Any]:
    """One deadline (`booking` or `cancel`): its kind, then only the parts that kind uses, so
    a number of days left in the form of a "same day" rule is neither checked nor saved."""
    keys = {part: f"{prefix}_deadline_{part}" for part in ("kind", "days", "weekday", "time")}
    cleaned: dict[str, Any] = {}
    kind = data.get(keys["kind"], getattr(product, keys["kind"]))
    if kind not in DeadlineKind.values:
        errors.add(keys["kind"], "Choisissez quand tombe la limite.")
        return cleaned
    if keys["kind"] in data:
        cleaned[keys["kind"]] = kind
    if kind == DeadlineKind.WORKING_DAYS_BEFORE and keys["days"] in data:
        days = parse_int(data[keys["days"]])
        if days is None or not 0 <= days <= MAX_DEADLINE_DAYS:
            errors.add(
                keys["days"],
                f"Indiquez un nombre de jours ouvrés entre 0 et {MAX_DEADLINE_DAYS}.",
            )
        cleaned[keys["days"]] = days
    if kind == DeadlineKind.WEEKDAY_BEFORE and keys["weekday"] in data:
        weekday = parse_int(data[keys["weekday"]])
        if weekday is None or not 0 <= weekday <= 6:
            errors.add(keys["weekday"], "Choisissez un jour de la semaine.")
        cleaned[keys["weekday"]] = weekday
    if keys["time"] in data:
        time = _parse_time(data[keys["time"]])
        if time is None:
            errors.add(keys["time"], "Heure invalide : indiquez une heure comme 12:00.")
        cleaned[keys["time"]] = time
    return cleaned


def _clean_capacity(value: object, errors: FieldErrors) -> int | None:
    if value in (None, ""):
        return None  # unlimited
    places = parse_int(value)
    if places is None or not 1 <= places <= MAX_DAILY_CAPACITY:
        most = f"{MAX_DAILY_CAPACITY:,}".replace(",", "\u202f")
        errors.add(
            "daily_capacity",
            f"Indiquez un nombre de places entre 1 et {most}, ou laissez vide (illimité).",
        )
    return places


def _clean_qf_brackets(raw: object, errors: FieldErrors) -> list[dict[str, Any]]:
    """[{"max_qf": 600, "price_cents": 120}, …]: strictly ascending ceilings, at most six.

    Errors name the bracket (`qf_brackets.<index>.max_qf`) so a form can show them on its row.
    """
    if not isinstance(raw, list | tuple) or any(not isinstance(b, dict) for b in raw):
        errors.add("qf_brackets", "Tranches de quotient familial illisibles.")
        return []
    if len(raw) > MAX_QF_BRACKETS:
        errors.add("qf_brackets", f"{MAX_QF_BRACKETS} tranches de quotient familial au plus.")
    brackets: list[dict[str, Any]] = []
    previous: int | None = None
    for index, bracket in enumerate(raw):
        max_qf, price = parse_int(bracket.get("max_qf")), parse_int(bracket.get("price_cents"))
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


def _clean_attendance_rules(data: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """The "Pointage" rules: unbooked presence (refused or billed, at a price in cents or the
    product's price when None), absence refund (percent), sick refund with a certificate
    (percent, or None: the certificate changes nothing)."""
    cleaned: dict[str, Any] = {}
    if "unbooked_presence" in data:
        if data["unbooked_presence"] not in UnbookedPresence.values:
            errors.add("unbooked_presence", "Choisissez si un enfant non réservé est accepté.")
        cleaned["unbooked_presence"] = data["unbooked_presence"]
    if "unbooked_price_cents" in data:
        price = data["unbooked_price_cents"]
        if price in (None, ""):
            cleaned["unbooked_price_cents"] = None
        else:
            cents = parse_int(price)
            if cents is None or not 0 <= cents <= MAX_PRICE_CENTS:
                errors.add(
                    "unbooked_price_cents",
                    f"Le prix doit être compris entre {format_euros(0)} et "
                    f"{format_euros(MAX_PRICE_CENTS)}, ou rester vide.",
                )
            cleaned["unbooked_price_cents"] = cents
    if "absence_refund_percent" in data:
        cleaned["absence_refund_percent"] = _clean_percent(
            "absence_refund_percent", data["absence_refund_percent"] or 0, errors
        )
    if "sick_refund_percent" in data:
        sick = data["sick_refund_percent"]
        cleaned["sick_refund_percent"] = (
            None if sick is None else _clean_percent("sick_refund_percent", sick, errors)
        )
    return cleaned


def booking_rules_changes(data: Mapping[str, Any], *, product: Product) -> BookingRulesChanges:
    """A product's booking rules; only the keys given are checked (and will change)."""
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
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
    cleaned.update(_clean_attendance_rules(data, errors))
    errors.raise_if_any("Les règles n’ont pas été enregistrées : corrigez les erreurs signalées.")
    return BookingRulesChanges(**cleaned)  # type: ignore[typeddict-item]


def closure_fields(data: Mapping[str, Any]) -> tuple[datetime.date, str]:
    """The day (years 2000 to 2100) and reason of a closure. Whether the day is still to come
    is the use case's rule (services.add_closure)."""
    errors = FieldErrors()
    day = parse_date(data.get("date"))
    if day is None:
        errors.add("date", "Indiquez le jour de fermeture, par exemple 12/03/2027.")
    reason = clean_text(data.get("reason"), max_length=CLOSURE_REASON_MAX_LENGTH)
    check_required(errors, "reason", reason, "Motif", CLOSURE_REASON_MAX_LENGTH)
    errors.raise_if_any()
    assert day is not None
    return day, reason
