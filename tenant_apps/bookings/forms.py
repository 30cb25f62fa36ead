import datetime

from django import forms

WEEKDAY_CHOICES = [(0, "Lundi"), (1, "Mardi"), (2, "Mercredi"), (3, "Jeudi"), (4, "Vendredi")]


class PatternForm(forms.Form):
    """ "Réservez par semaine, par mois…": a weekly rhythm over a period."""

    weekdays = forms.TypedMultipleChoiceField(
        label="Les jours", choices=WEEKDAY_CHOICES, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    start = forms.DateField(label="Du", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="Au", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "La fin doit être après le début.")
            elif end - start > datetime.timedelta(days=190):
                self.add_error("end", "Six mois au plus à la fois.")
        return data
