"""Where a person lands after signing in: their commune's Gestion, their family space, or a
choice between them ("Où voulez-vous aller ?").

A staff member of one commune with no family lands in that commune's Gestion (its dashboard),
a platform operator with neither commune nor family in the operators' console;
someone with several places (staff of two communes, or staff who is also a parent with
children) chooses; everyone else lands in the family space (settings.LOGIN_REDIRECT_URL). A safe
`next` given to the sign-in pages always wins (see views._safe_next).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from shared_apps.accounts.models import User
from tenants.models import Commune
from tenants.selectors import staff_destinations


@dataclass(frozen=True)
class Places:
    communes: list[Commune]  # where the person is staff (active communes), by name
    family: bool  # a guardian of a family with at least one child

    @property
    def count(self) -> int:
        return len(self.communes) + (1 if self.family else 0)


def places_of(user: User) -> Places:
    """The person's places: staff communes and family space (2 queries)."""
    # families is a sibling app (no import between them): its model is looked up by name.
    Child = apps.get_model("families", "Child")
    family = Child.objects.filter(family__guardians__user=user, removed_at__isnull=True).exists()
    return Places(communes=staff_destinations(user), family=family)


def gestion_url(commune: Commune) -> str:
    return reverse("backoffice-home", kwargs={"commune_slug": commune.slug})


def landing_url(user: User) -> str:
    """The address to send `user` to after signing in, when no `next` was given."""
    places = places_of(user)
    if places.count > 1:
        return reverse("accounts:spaces")
    if places.communes:
        return gestion_url(places.communes[0])
    if user.is_operator and not places.family:
        return reverse("console:communes")  # the operators' console (by name: no import)
    return resolve_url(settings.LOGIN_REDIRECT_URL)
