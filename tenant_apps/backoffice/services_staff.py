"""The commune's staff, managed by its managers: invite by e-mail, change a role, remove.

Memberships and invitations are public rows (tenants.models) scoped by an explicit commune;
every change is audited (shared_apps.audit). The rules:

- only a manager of the commune acts here (the pages and the API check it; the use cases check
  it again, so a caller that forgets cannot act for another commune);
- a commune always keeps at least one manager: the last one can neither leave nor be demoted
  (decided under a lock on the commune's memberships, so two managers demoting each other at
  once cannot both succeed);
- an invitation link carries a random token of which only the SHA-256 is stored; it expires
  after `INVITATION_DAYS` days and serves once. An existing account joins on accepting; a new
  person creates an account first (the link brings them back), and only the invited address's
  account may accept.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from config.celery import enqueue_on_commit
from shared_apps.accounts.models import User
from shared_apps.audit.services import record
from shared_apps.common.errors import Conflict, DomainError, NotFound
from shared_apps.common.ratelimit import spend_mail_budget
from tenants.models import Commune, Membership, Role, StaffInvitation

INVITATION_DAYS = 7
INVITATIONS_PER_COMMUNE_PER_DAY = 50


class NotAManager(DomainError):
    code = "permission_denied"
    status = 403
    message = "Réservé aux responsables de cette commune."


class InvalidStaffInvitation(DomainError):
    code = "invalid_invitation"
    message = "Cette invitation n’est plus valide : elle a déjà servi, a été annulée ou a expiré."


class InvitationForSomeoneElse(DomainError):
    code = "invitation_email_mismatch"
    status = 403
    message = (
        "Cette invitation a été envoyée à une autre adresse e-mail. Connectez-vous avec le compte "
        "de la personne invitée."
    )


class LastManager(Conflict):
    code = "last_manager"
    message = (
        "La commune doit garder au moins un responsable : nommez d’abord un autre responsable."
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_manager(commune: Commune, user: User) -> None:
    if not Membership.objects.filter(user=user, commune=commune, role=Role.MANAGER).exists():
        raise NotAManager()


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise DomainError(
            "Rôle inconnu : agent ou responsable.", fields={"role": ["Choisissez un rôle."]}
        )


def invite_staff(
    *, commune: Commune, invited_by: User, email: str, role: str, client_ip: str = ""
) -> tuple[StaffInvitation, str]:
    """Invite someone to the commune's staff by e-mail; returns the invitation and its token.

    Inputs: the commune, the inviting manager, the e-mail and the role (agent or manager), and
    the request's `client_ip` (pays the e-mail out of the hourly budget when given). An earlier
    live invitation of the same address to this commune is cancelled (its link stops working):
    the newest one counts. The e-mail leaves after commit.
    Errors: NotAManager (not a manager here), DomainError (bad e-mail or role), Conflict
    (already on the staff; too many invitations today), RateLimited.
    """
    _check_manager(commune, invited_by)
    _check_role(role)
    return _issue_invitation(
        commune=commune, invited_by=invited_by, email=email, role=role, client_ip=client_ip
    )


def invite_first_manager(*, commune: Commune, operator: User, email: str) -> StaffInvitation:
    """A platform operator invites a new commune's first manager, by e-mail.

    The same invitation as a manager's (single-use link, 7 days, e-mailed after commit), with
    the role of manager; the e-mail reads "La commune … vous invite" (the invitation names no
    inviter: the operator is not on the commune's staff; the audit entry names them).
    Errors: PermissionDenied-like DomainError (not an operator), DomainError (bad e-mail),
    Conflict (already on the staff).
    """
    if not getattr(operator, "is_operator", False):
        raise NotAManager("Réservé aux opérateurs de la plateforme.")
    invitation, _token = _issue_invitation(
        commune=commune, invited_by=None, actor=operator, email=email, role=Role.MANAGER
    )
    return invitation


def _issue_invitation(
    *,
    commune: Commune,
    invited_by: User | None,
    email: str,
    role: str,
    client_ip: str = "",
    actor: User | None = None,
) -> tuple[StaffInvitation, str]:
    from tenant_apps.backoffice.tasks import send_staff_invitation_email_task

    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError(
            "Adresse e-mail invalide.", fields={"email": ["Adresse e-mail invalide."]}
        ) from exc
    if Membership.objects.filter(commune=commune, user__email__iexact=email).exists():
        message = "Cette personne fait déjà partie de l’équipe : changez son rôle dans la liste."
        raise Conflict(message, fields={"email": [message]})
    now = timezone.now()
    with transaction.atomic():
        Commune.objects.select_for_update().filter(pk=commune.pk).first()
        day_ago = now - datetime.timedelta(days=1)
        if (
            StaffInvitation.objects.filter(commune=commune, created_at__gt=day_ago).count()
            >= INVITATIONS_PER_COMMUNE_PER_DAY
        ):
            raise Conflict("Trop d’invitations envoyées aujourd’hui. Réessayez demain.")
        if client_ip:
            spend_mail_budget(client_ip=client_ip)
        StaffInvitation.objects.filter(
            commune=commune, email=email, accepted_at__isnull=True, cancelled_at__isnull=True
        ).update(cancelled_at=now)
        token = secrets.token_urlsafe(32)
        invitation = StaffInvitation.objects.create(
            commune=commune,
            email=email,
            role=role,
            token_hash=_hash(token),
            invited_by=invited_by,
            expires_at=now + datetime.timedelta(days=INVITATION_DAYS),
        )
        record(
            actor=actor or invited_by,
            commune=commune,
            action="staff.invite",
            target_type="staff_invitation",
            target_id=invitation.pk,
            details={"email": email, "role": role},
        )
        enqueue_on_commit(send_staff_invitation_email_task, invitation.pk, token)
    return invitation, token


def invitation_for_token(*, commune: Commune, token: str) -> StaffInvitation | None:
    """The live invitation (unused, not cancelled, unexpired) of this commune for `token`."""
    invitation = (
        StaffInvitation.objects.select_related("commune", "invited_by")
        .filter(
            commune=commune,
            token_hash=_hash(token or ""),
            accepted_at__isnull=True,
            cancelled_at__isnull=True,
        )
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        return None
    return invitation


def accept_staff_invitation(*, commune: Commune, user: User, token: str) -> Membership:
    """Join the commune's staff with the invited role: once, by the invited address's account.

    If the person is already on the staff (joined meanwhile), the invitation is used up and the
    membership is left as it is. Accepting confirms the account's e-mail (the link reached it).
    Errors: InvalidStaffInvitation (unknown, used, cancelled, expired, another commune's),
    InvitationForSomeoneElse (403).
    """
    with transaction.atomic():
        invitation = invitation_for_token(commune=commune, token=token)
        if invitation is None:
            raise InvalidStaffInvitation()
        invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None or invitation.cancelled_at is not None:
            raise InvalidStaffInvitation()
        if invitation.email.lower() != user.email.lower():
            raise InvitationForSomeoneElse()
        membership, created = Membership.objects.get_or_create(
            user=user, commune=commune, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        if user.email_verified_at is None:  # the link reached this mailbox: it is theirs
            user.email_verified_at = invitation.accepted_at
            user.save(update_fields=["email_verified_at"])
        record(
            actor=user,
            commune=commune,
            action="staff.join",
            target_type="membership",
            target_id=membership.pk,
            details={"role": membership.role, "invitation": invitation.pk, "new": created},
        )
    return membership


def _locked_memberships(commune: Commune) -> dict[int, Membership]:
    """The commune's memberships, locked until the end of the caller's transaction."""
    return {
        m.pk: m
        for m in Membership.objects.select_for_update()
        .filter(commune=commune)
        .select_related("user")
        .order_by("pk")
    }


def _membership_in(memberships: dict[int, Membership], membership_id: int) -> Membership:
    membership = memberships.get(membership_id)
    if membership is None:
        raise NotFound("Membre de l’équipe introuvable.")
    return membership


def change_staff_role(
    *, commune: Commune, changed_by: User, membership_id: int, role: str
) -> Membership:
    """Make a staff member an agent or a manager of this commune.

    Errors: NotAManager, NotFound (not this commune's staff), DomainError (unknown role),
    LastManager (the only manager demoted, themself or not).
    """
    _check_role(role)
    with transaction.atomic():
        memberships = _locked_memberships(commune)
        actor = next((m for m in memberships.values() if m.user_id == changed_by.pk), None)
        if actor is None or actor.role != Role.MANAGER:
            raise NotAManager()
        membership = _membership_in(memberships, membership_id)
        if membership.role == role:
            return membership
        managers = [m for m in memberships.values() if m.role == Role.MANAGER]
        if membership.role == Role.MANAGER and len(managers) <= 1:
            raise LastManager()
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        record(
            actor=changed_by,
            commune=commune,
            action="staff.role",
            target_type="membership",
            target_id=membership.pk,
            details={"user": membership.user_id, "from": previous, "to": role},
        )
    return membership


def remove_staff_member(*, commune: Commune, removed_by: User, membership_id: int) -> None:
    """Take a person off the commune's staff (their account stays; other communes untouched).

    Errors: NotAManager, NotFound, LastManager (the only manager, themself or not).
    """
    with transaction.atomic():
        memberships = _locked_memberships(commune)
        actor = next((m for m in memberships.values() if m.user_id == removed_by.pk), None)
        if actor is None or actor.role != Role.MANAGER:
            raise NotAManager()
        membership = _membership_in(memberships, membership_id)
        managers = [m for m in memberships.values() if m.role == Role.MANAGER]
        if membership.role == Role.MANAGER and len(managers) <= 1:
            raise LastManager()
        record(
            actor=removed_by,
            commune=commune,
            action="staff.remove",
            target_type="membership",
            target_id=membership.pk,
            details={"user": membership.user_id, "email": membership.user.email},
        )
        membership.delete()


def cancel_staff_invitation(*, commune: Commune, cancelled_by: User, invitation_id: int) -> None:
    """Withdraw a pending invitation: its link stops working. Errors: NotAManager,
    NotFound (not a pending invitation of this commune)."""
    _check_manager(commune, cancelled_by)
    with transaction.atomic():
        updated = StaffInvitation.objects.filter(
            pk=invitation_id,
            commune=commune,
            accepted_at__isnull=True,
            cancelled_at__isnull=True,
        ).update(cancelled_at=timezone.now())
        if not updated:
            raise NotFound("Invitation introuvable.")
        record(
            actor=cancelled_by,
            commune=commune,
            action="staff.invitation_cancel",
            target_type="staff_invitation",
            target_id=invitation_id,
        )
