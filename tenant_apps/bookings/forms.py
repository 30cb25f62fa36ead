import datetime

from django import forms

from tenant_apps.bookings.parsing import MAX_DAYS_ON_BEHALF, MAX_RHYTHM_DAYS

WEEKDAY_CHOICES = [(0, "Lundi"), (1, "Mardi"), (2, "Mercredi"), (3, "Jeudi"), (4, "Vendredi")]


class PatternForm(forms.Form):
    """ "Réservez par semaine, par mois…": a weekly rhythm over a period."""

    weekdays = forms.TypedMultipleChoiceField(
        label="Les jours", choices=WEEKDAY_CHOICES, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    # <input type="date"> only shows an ISO value: never the locale's "27/11/2026".
    start = forms.DateField(
        label="Du", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label="Au", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean_weekdays(self) -> list[int]:
        # Each value is one of the choices; a repeated one must not make the list longer.
        if len(self.cleaned_data["weekdays"]) > len(WEEKDAY_CHOICES):
            raise forms.ValidationError("Cinq jours au plus.")
        return sorted(set(self.cleaned_data["weekdays"]))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "La fin doit être après le début.")
            elif end - start > datetime.timedelta(days=MAX_RHYTHM_DAYS):
                self.add_error("end", "Six mois au plus à la fois.")
        return data


class OnBehalfForm(forms.Form):
    child_id = forms.TypedChoiceField(label="Enfant", coerce=int)
    product_id = forms.TypedChoiceField(label="Prestation", coerce=int)
    dates = forms.CharField(
        label="Jour(s)",
        max_length=MAX_DAYS_ON_BEHALF * len("2026-12-07, "),
        help_text="Un ou plusieurs jours, séparés par des virgules : 2026-12-07, 2026-12-08.",
    )
    consent_note = forms.CharField(
        label="Accord de la famille",
        max_length=500,
        help_text="Qui a donné son accord, quand et comment "
        "(ex. : Mme Martin, par téléphone, 8 h 10).",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        children, products = choices
        self.fields["child_id"].choices = [("", "— Choisir —"), *children]
        self.fields["product_id"].choices = [("", "— Choisir —"), *products]

    def clean_dates(self) -> list[str]:
        parts = [p.strip() for p in self.cleaned_data["dates"].replace(";", ",").split(",")]
        if len(parts) > MAX_DAYS_ON_BEHALF:
            raise forms.ValidationError(f"{MAX_DAYS_ON_BEHALF} jours au plus à la fois.")
        parsed = []
        for part in filter(None, parts):
            try:
                parsed.append(datetime.date.fromisoformat(part).isoformat())
            except ValueError:
                try:
                    parsed.append(datetime.datetime.strptime(part, "%d/%m/%Y").date().isoformat())
                except ValueError:
                    raise forms.ValidationError(
                        f"Date invalide : {part} (ex. 07/12/2026)."
                    ) from None
        if not parsed:
            raise forms.ValidationError("Indiquez au moins un jour.")
        return parsed
