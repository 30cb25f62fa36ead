"""Forms of the staff page (gestion/equipe/): invite by e-mail, change a role."""

from __future__ import annotations

from django import forms

from tenants.models import Role

ROLE_CHOICES = [
    (Role.AGENT, "Agent : le travail quotidien (demandes, effectifs, pointage, versements)"),
    (Role.MANAGER, "Responsable : en plus, les services, les prix, le calendrier et l’équipe"),
]


class InviteStaffForm(forms.Form):
    email = forms.EmailField(
        label="Adresse e-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Indiquez l’adresse e-mail de la personne à inviter."},
    )
    role = forms.ChoiceField(
        label="Rôle",
        choices=ROLE_CHOICES,
        initial=Role.AGENT,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez un rôle."},
    )


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label="Rôle", choices=Role.choices)
