"""The "Recharger mon crédit" form: an amount (preset or free, in euros) and a pocket."""

from __future__ import annotations

from django import forms

from shared_apps.common.money import format_euros, parse_euros
from shared_apps.payments.selectors import TopUpTarget
from shared_apps.payments.services import top_up_amount_error

PRESET_AMOUNTS_CENTS = (1000, 2000, 5000)
OTHER = "other"


class TopUpForm(forms.Form):
    preset = forms.ChoiceField(
        label="Montant",
        required=False,
        widget=forms.RadioSelect,
        choices=[(str(c), format_euros(c)) for c in PRESET_AMOUNTS_CENTS]
        + [(OTHER, "Autre montant")],
    )
    other_amount = forms.CharField(
        label="Autre montant, en euros",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    pocket = forms.ChoiceField(label="Crédit à recharger")

    def __init__(self, *args, targets: list[TopUpTarget], min_cents: int, max_cents: int, **kw):
        super().__init__(*args, **kw)
        self.fields[
            "other_amount"
        ].help_text = (
            f"Entre {format_euros(min_cents)} et {format_euros(max_cents)}, par exemple 25,50."
        )
        choices: list = []
        groups: dict[str, list[tuple[str, str]]] = {}
        for target in targets:
            if target.commune_name is None:
                choices.append((target.value, target.label))
            else:
                groups.setdefault(target.commune_name, []).append((target.value, target.label))
        choices.extend(groups.items())
        self.fields["pocket"].choices = choices
        self.fields["pocket"].help_text = (
            "Le crédit d’un service ne paie que ce service ; le crédit « tous services » paie "
            "n’importe quel service de la plateforme."
        )

    def clean(self):
        cleaned = super().clean()
        preset, other = cleaned.get("preset"), (cleaned.get("other_amount") or "").strip()
        amount = None
        if preset and preset != OTHER:
            amount, field = int(preset), "preset"
        elif other:
            amount, field = parse_euros(other), "other_amount"
            if amount is None:
                self.add_error(field, "Indiquez un montant en euros, par exemple 25,50.")
                return cleaned
        else:
            field = "other_amount" if preset == OTHER else "preset"
            self.add_error(field, "Choisissez un montant.")
            return cleaned
        error = top_up_amount_error(amount)
        if error:
            self.add_error(field, error)
        cleaned["amount_cents"] = amount
        return cleaned

    def top_up_kwargs(self) -> dict:
        """The arguments of services.start_top_up for a valid form."""
        pocket = self.cleaned_data["pocket"]
        kwargs = {"amount_cents": self.cleaned_data["amount_cents"]}
        if pocket == "general":
            return {**kwargs, "scope": "general"}
        commune_slug, service_id = pocket.rsplit(":", 1)
        return {
            **kwargs,
            "scope": "service",
            "commune_slug": commune_slug,
            "service_id": int(service_id),
        }
