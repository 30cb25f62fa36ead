"""Back-office forms of the catalogue. They read what was typed; the rules live in services.py."""

from __future__ import annotations

import re

from django import forms

from shared_apps.common.money import parse_euros
from tenant_apps.catalog.models import FileFormat, PaymentMethod, ServiceKind


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
