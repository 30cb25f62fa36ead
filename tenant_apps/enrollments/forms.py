from django import forms

from shared_apps.common.validation import parse_int
from tenant_apps.enrollments.errors import InvalidAccessRequest
from tenant_apps.enrollments.uploads import FORMAT_LABELS

DOC_PREFIX = "doc_"
ACCEPT_ATTR = {
    "pdf": ".pdf,application/pdf",
    "jpeg": ".jpg,.jpeg,image/jpeg",
    "png": ".png,image/png",
}


def _file_field(document_type, *, required_label: bool) -> forms.FileField:
    formats = " ou ".join(FORMAT_LABELS[f] for f in document_type.accepted_formats)
    help_text = " ".join(
        part for part in (document_type.help_text, f"{formats}, 10 Mo au maximum.") if part
    )
    suffix = "" if document_type.required or not required_label else " (facultatif)"
    return forms.FileField(
        label=f"{document_type.label}{suffix}",
        required=False,  # the service says what is missing, all at once
        help_text=help_text,
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(ACCEPT_ATTR[f] for f in document_type.accepted_formats)}
        ),
    )


class AccessRequestForm(forms.Form):
    """Choose the children, one file per document the service asks for, "Valider"."""

    children = forms.TypedMultipleChoiceField(
        label="Enfants concernés", widget=forms.CheckboxSelectMultiple, required=False, coerce=int
    )

    def __init__(self, *args, children, document_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["children"].choices = [
            (str(child.pk), f"{child.first_name} {child.last_name}") for child in children
        ]
        for document_type in document_types:
            self.fields[DOC_PREFIX + document_type.code] = _file_field(
                document_type, required_label=True
            )

    def files_by_code(self) -> dict:
        return {
            name[len(DOC_PREFIX) :]: upload
            for name, upload in self.cleaned_data.items()
            if name.startswith(DOC_PREFIX) and upload
        }


class CompleteRequestForm(forms.Form):
    def __init__(self, *args, document_types, **kwargs):
        super().__init__(*args, **kwargs)
        for document_type in document_types:
            self.fields[DOC_PREFIX + document_type.code] = _file_field(
                document_type, required_label=False
            )

    files_by_code = AccessRequestForm.files_by_code


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Décision",
        widget=forms.RadioSelect,
        choices=[
            ("accept", "Accepter"),
            ("request_info", "Demander un complément"),
            ("reject", "Refuser"),
        ],
    )
    document_code = forms.ChoiceField(label="Pièce à compléter (facultatif)", required=False)
    reason = forms.CharField(
        label="Motif ou message à la famille",
        required=False,
        help_text="Obligatoire pour un refus ou une demande de complément ; envoyé par e-mail.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, document_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_code"].choices = [("", "— Aucune en particulier —")] + [
            (dt.code, dt.label) for dt in document_types
        ]


MAX_QUOTIENT_FAMILIAL = 99_999


def parse_quotient_familial(raw: str | None) -> int | None:
    """The QF staff typed: a whole number from 0 to 99 999, or empty (unknown)."""
    if raw in (None, ""):
        return None
    quotient = parse_int(raw)
    if quotient is None or not 0 <= quotient <= MAX_QUOTIENT_FAMILIAL:
        raise InvalidAccessRequest(
            "Quotient familial : un nombre entier entre 0 et 99 999 (vide si inconnu).",
            fields={"quotient_familial": ["Nombre entier entre 0 et 99 999."]},
        )
    return quotient
