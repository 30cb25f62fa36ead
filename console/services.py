"""The operators' actions on communes, each audited (shared_apps.audit, actions "operator.*").

The rules live where the data does (tenants.services: creation, suspension, general credit;
tenant_apps.backoffice.services_staff: invitations); this module checks that an operator acts,
chains them, and writes the audit entry in the same transaction as the change.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from console.health import refresh_health
from shared_apps.accounts.models import User
from shared_apps.audit.services import record
from shared_apps.common.errors import DomainError
from tenant_apps.backoffice.services_staff import invite_first_manager
from tenants.models import Commune
from tenants.services import (
    InvalidCommune,
    create_commune,
    resume_commune,
    set_general_credit,
    suspend_commune,
)


class NotAnOperator(DomainError):
    code = "permission_denied"
    status = 403
    message = "Réservé aux opérateurs de la plateforme."


def is_operator(user: object) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "is_operator", False)
    )


def _check_operator(user: User) -> None:
    if not is_operator(user):
        raise NotAnOperator()


def open_commune(
    *,
    operator: User,
    name: str,
    slug: str,
    insee_code: str,
    holiday_zone: str = "",
    manager_email: str,
) -> Commune:
    """Open a commune (a clone of the template schema, tenants.services.create_commune) and
    invite its first manager by e-mail (a manager's invitation, sent after commit).

    Every input is checked before anything is created: a bad e-mail, slug, name, INSEE code or
    zone, or a slug already used, creates nothing. Errors: NotAnOperator, InvalidCommune
    (French message and fields), CommuneAlreadyExists (409).
    """
    _check_operator(operator)
    email = (manager_email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidCommune(
            "Adresse e-mail du premier responsable invalide.",
            fields={"manager_email": ["Adresse e-mail invalide."]},
        ) from exc
    commune = create_commune(slug=slug, name=name, insee_code=insee_code, holiday_zone=holiday_zone)
    with transaction.atomic():
        invitation = invite_first_manager(commune=commune, operator=operator, email=email)
        record(
            actor=operator,
            commune=commune,
            action="operator.commune_open",
            target_type="commune",
            target_id=commune.pk,
            details={"slug": commune.slug, "invitation_id": invitation.pk},
        )
    refresh_health([commune])
    return commune


def suspend(*, operator: User, commune: Commune, reason: str) -> Commune:
    """Suspend the commune (tenants.services.suspend_commune), audited with the reason."""
    _check_operator(operator)
    with transaction.atomic():
        commune = suspend_commune(commune=commune, reason=reason)
        record(
            actor=operator,
            commune=commune,
            action="operator.commune_suspend",
            target_type="commune",
            target_id=commune.pk,
            details={"reason": commune.suspension_reason},
        )
    return commune


def resume(*, operator: User, commune: Commune) -> Commune:
    """Lift the commune's suspension (tenants.services.resume_commune), audited."""
    _check_operator(operator)
    with transaction.atomic():
        commune = resume_commune(commune=commune)
        record(
            actor=operator,
            commune=commune,
            action="operator.commune_resume",
            target_type="commune",
            target_id=commune.pk,
        )
    return commune


def switch_general_credit(*, operator: User, commune: Commune, accepted: bool) -> Commune:
    """Whether the commune's services accept the "tous services" credit, audited (before and
    after)."""
    _check_operator(operator)
    with transaction.atomic():
        before = (
            Commune.objects.select_for_update()
            .values_list("accepts_general_credit", flat=True)
            .get(pk=commune.pk)
        )
        commune = set_general_credit(commune=commune, accepted=accepted)
        record(
            actor=operator,
            commune=commune,
            action="operator.general_credit",
            target_type="commune",
            target_id=commune.pk,
            details={"before": before, "after": commune.accepts_general_credit},
        )
    return commune


def refresh_one(*, operator: User, commune: Commune) -> None:
    """Recompute one commune's health row now (instead of waiting for the beat), audited."""
    _check_operator(operator)
    refresh_health([commune])
    record(
        actor=operator,
        commune=commune,
        action="operator.health_refresh",
        target_type="commune",
        target_id=commune.pk,
    )
