"""Staff memberships: who may act for a commune, and with which role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from shared_apps.common.errors import DomainError, NotFound
from tenants.models import Commune, Membership, Role


class InvalidStaff(DomainError):
    code = "invalid_staff"


def add_staff_member(
    *,
    commune_slug: str,
    email: str,
    role: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Create (or update) the membership; the account is created if the e-mail is new."""
    if role not in Role.values:
        raise InvalidStaff("Rôle inconnu : agent ou manager.")
    commune = Commune.objects.filter(slug=commune_slug).first()
    if commune is None:
        raise NotFound(f"Aucune commune « {commune_slug} ».")
    email = (email or "").strip().lower()
    if "@" not in email:
        raise InvalidStaff("Adresse e-mail invalide.")
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email,
                password,
                first_name=first_name,
                last_name=last_name,
                email_verified_at=timezone.now(),
            )
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
        membership, _ = Membership.objects.update_or_create(
            user=user, commune=commune, defaults={"role": role}
        )
    return membership
