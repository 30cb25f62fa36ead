"""The console's forms: French labels and messages; the rules stay in the services."""

from __future__ import annotations

import datetime

from django import forms

from tenants.models import HolidayZone


class OpenCommuneForm(forms.Form):
    name = forms.CharField(label="Nom de la commune", max_length=120)
    slug = forms.CharField(
        label="Identifiant d’adresse",
        max_length=50,
        help_text="Lettres minuscules, chiffres et tirets : /c/<identifiant>/ (ex. baneins).",
    )
    insee_code = forms.CharField(
        label="Code INSEE", max_length=5, help_text="5 caractères (ex. 01385 ou 2A004)."
    )
    holiday_zone = forms.ChoiceField(
        label="Zone de vacances scolaires",
        required=False,
        choices=[("", "Déduite du code INSEE"), *HolidayZone.choices],
        help_text="Laissez « Déduite du code INSEE » sauf pour vérifier la zone.",
    )
    manager_email = forms.EmailField(
        label="E-mail du premier responsable",
        help_text="Il reçoit une invitation valable 7 jours pour rejoindre l’équipe.",
    )


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label="Motif de la suspension",
        max_length=300,
        help_text="Affiché aux familles et aux agents de la commune.",
    )


class GeneralCreditForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label="Crédit « tous services »",
        choices=[("1", "Accepté"), ("0", "Refusé")],
        coerce=lambda value: value == "1",
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label="Du", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="Au (inclus)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("La fin de la période précède son début.")
            if end - start > datetime.timedelta(days=366):
                raise forms.ValidationError("Choisissez une période d’un an au plus.")
        return data
