from django import forms

from shared_apps.common.money import parse_euros


class CounterCreditForm(forms.Form):
    family_id = forms.TypedChoiceField(label="Famille", coerce=int)
    service_id = forms.TypedChoiceField(label="Service", coerce=int)
    amount = forms.CharField(
        label="Montant reçu (€)", max_length=12, help_text="Par exemple 20 ou 15,50."
    )
    method = forms.ChoiceField(
        label="Mode de paiement",
        choices=[("cash", "Espèces"), ("cheque", "Chèque"), ("transfer", "Virement")],
        widget=forms.RadioSelect,
    )
    reference = forms.CharField(
        label="Référence",
        max_length=60,
        help_text="N° de chèque, de reçu ou de virement : il évite un double enregistrement.",
    )

    def __init__(self, *args, families, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["family_id"].choices = [("", "— Choisir —"), *families]
        self.fields["service_id"].choices = [
            ("", "— Choisir —"),
            *[(s.pk, s.name) for s in services],
        ]

    def clean_amount(self) -> int:
        cents = parse_euros(self.cleaned_data["amount"])
        if cents is None or cents <= 0:
            raise forms.ValidationError("Montant invalide : écrivez par exemple 20 ou 15,50.")
        return cents
