"""The form of "Réserver pour une famille" (the "cagnotte"): child, product, meal variant, days
and the note of the consent obtained when the family gave no standing consent."""

from __future__ import annotations

from django import forms

from tenant_apps.bookings.forms import OnBehalfForm
from tenant_apps.bookings.services.on_behalf import STANDARD_MEAL


class FamilyBookingForm(OnBehalfForm):
    """OnBehalfForm with the meal variant, and a consent note the service requires only when the
    family gave this commune no standing consent (services.on_behalf.book_on_behalf decides)."""

    variant_id = forms.ChoiceField(
        label="Repas",
        required=False,
        help_text="Obligatoire quand la prestation propose plusieurs repas (PAI, sans viande…).",
    )
    field_order = ["child_id", "product_id", "variant_id", "dates", "consent_note"]

    def __init__(self, *args, choices, variants, standing_consent: bool, **kwargs):
        """`choices`: (children, products) as (id, label) lists; `variants`: [(product label,
        [(variant id, name), …]), …] for the products that have some."""
        super().__init__(*args, choices=choices, **kwargs)
        self.fields[
            "dates"
        ].help_text = "Un ou plusieurs jours, séparés par des virgules : 07/12/2026, 08/12/2026."
        # Choosing is required where there are variants: "Standard" is a choice, not a default.
        self.fields["variant_id"].choices = [
            ("", "— Choisir le repas —"),
            (str(STANDARD_MEAL), "Standard"),
            *variants,
        ]
        note = self.fields["consent_note"]
        # Required without standing consent, but the service says so (its sentence is clearer).
        note.required = False
        if standing_consent:
            note.label = "Note (facultative)"
            note.help_text = (
                "La famille a donné un accord permanent à la mairie ; vous pouvez préciser "
                "sa demande."
            )
        self.order_fields(self.field_order)
