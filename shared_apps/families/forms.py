from django import forms

from shared_apps.families.models import Relation


class ChildForm(forms.Form):
    last_name = forms.CharField(label="Nom de votre enfant", max_length=150)
    first_name = forms.CharField(label="Prénom de votre enfant", max_length=150)
    birth_date = forms.DateField(
        label="Date de naissance de votre enfant",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "invalid": "Date invalide : utilisez le calendrier ou le format JJ/MM/AAAA."
        },
    )
    relation = forms.ChoiceField(
        label="Qui êtes-vous par rapport à votre enfant ?",
        choices=[("", "— Choisir —"), *Relation.choices],
    )
    school_class = forms.CharField(
        label="Classe de votre enfant",
        max_length=40,
        required=False,
        help_text="Par exemple : PS, MS, GS, CP, CE1, CE2, CM1, CM2.",
    )
    notes = forms.CharField(
        label="Information complémentaire si nécessaire",
        required=False,
        max_length=2000,
        help_text="Allergies, PAI, personnes autorisées à venir chercher l’enfant…",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
        # The service checks what is required, so every error shows at once.
        for field in self.fields.values():
            field.required = False


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label="Adresse e-mail de l’autre responsable",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
