"""Back-office forms of the catalogue. They read what was typed; the rules live in services.py."""

from __future__ import annotations

import re

from django import forms

from shared_apps.common.errors import DomainError
from shared_apps.common.money import parse_euros
from tenant_apps.bookings.rules import WEEKDAY_NAMES
from tenant_apps.catalog.models import (
    DeadlineKind,
    FileFormat,
    OpeningPeriod,
    PaymentMethod,
    Product,
    ServiceKind,
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
