"""Family use cases: children, and a second guardian joining by invitation."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.celery import enqueue_on_commit
from shared_apps.audit.services import record
from shared_apps.common.errors import Conflict, DomainError, NotFound
from shared_apps.common.ratelimit import RateLimited, spend_mail_budget
from shared_apps.common.validation import (
    FieldErrors,
    check_required,
    clean_text,
    parse_date,
    parse_id,
)
from shared_apps.families.models import (
    Child,
    ChildRelation,
    Family,
    FamilyCommune,
    Guardian,
    Invitation,
    Relation,
)
from shared_apps.families.selectors import child_of

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune

OLDEST_CHILD_YEARS = 25  # guardianship of young adults (handicap, apprentices) is plausible


class DuplicateChild(Conflict):
    code = "duplicate_child"
    message = "Cet enfant est déjà enregistré dans votre famille."


class InvalidInvitation(DomainError):
    code = "invalid_invitation"
    message = "Cette invitation n’est plus valide : elle a déjà servi ou elle a expiré."


class InvitationForSomeoneElse(DomainError):
    code = "invitation_email_mismatch"
    status = 403
    message = (
        "Cette invitation a été envoyée à une autre adresse e-mail. Connectez-vous avec le compte "
        "de la personne invitée."
    )


class AlreadyInAFamily(Conflict):
    code = "already_in_family"
    message = (
        "Votre compte fait déjà partie d’une famille avec des enfants : "
        "il ne peut pas en rejoindre une autre."
    )


def get_or_create_family(user: User) -> Family:
    guardian = Guardian.objects.select_related("family").filter(user=user).first()
    if guardian:
        return guardian.family
    with transaction.atomic():
        family = Family.objects.create()
        Guardian.objects.create(user=user, family=family)
    return family


CHILD_LIMITS = {"last_name": 150, "first_name": 150, "school_class": 40, "notes": 2000}


def _clean_child(data: dict, errors: FieldErrors, *, partial: bool) -> dict:
    cleaned: dict = {}
    for field, label in (("last_name", "Nom"), ("first_name", "Prénom")):
        if field in data or not partial:
            value = clean_text(data.get(field), max_length=CHILD_LIMITS[field])
            check_required(errors, field, value, label, CHILD_LIMITS[field])
            cleaned[field] = value
    if "school_class" in data or not partial:
        value = clean_text(data.get("school_class"), max_length=CHILD_LIMITS["school_class"])
        if len(value) > CHILD_LIMITS["school_class"]:
            errors.add("school_class", "Classe : 40 caractères au maximum.")
        cleaned["school_class"] = value
    if "notes" in data or not partial:
        value = (data.get("notes") or "").strip()
        if len(value) > CHILD_LIMITS["notes"]:
            errors.add("notes", "Information complémentaire : 2000 caractères au maximum.")
        cleaned["notes"] = value
    if "birth_date" in data or not partial:
        # Its own bounds (not in the future, not too old) say more than "2000 to 2100".
        birth_date = parse_date(data.get("birth_date"), any_year=True)
        today = timezone.localdate()
        if birth_date is None:
            errors.add("birth_date", "Date de naissance attendue, par ex. 2018-09-14.")
        elif birth_date > today:
            errors.add("birth_date", "La date de naissance ne peut pas être dans le futur.")
        elif birth_date < today.replace(year=today.year - OLDEST_CHILD_YEARS):
            errors.add(
                "birth_date",
                "Date de naissance peu plausible pour un enfant "
                f"(plus de {OLDEST_CHILD_YEARS} ans).",
            )
        cleaned["birth_date"] = birth_date
    if "relation" in data or not partial:
        relation = data.get("relation")
        if relation not in Relation.values:
            errors.add("relation", "Choisissez : mère, père, tuteur·rice ou autre.")
        cleaned["relation"] = relation
    return cleaned


def _is_duplicate(family_id: int, fields: dict, *, exclude_pk: int | None = None) -> bool:
    return (
        Child.objects.filter(
            family_id=family_id,
            removed_at__isnull=True,
            first_name__iexact=fields["first_name"],
            last_name__iexact=fields["last_name"],
            birth_date=fields["birth_date"],
        )
        .exclude(pk=exclude_pk or 0)  # 0: no child has it
        .exists()
    )


def add_child(*, user: User, data: dict) -> Child:
    errors = FieldErrors()
    cleaned = _clean_child(data, errors, partial=False)
    errors.raise_if_any()
    relation = cleaned.pop("relation")
    family = get_or_create_family(user)
    if _is_duplicate(family.pk, cleaned):
        raise DuplicateChild()
    try:
        with transaction.atomic():
            child = Child.objects.create(family=family, **cleaned)
            ChildRelation.objects.create(child=child, user=user, relation=relation)
    except IntegrityError as exc:  # the same child saved twice at once
        raise DuplicateChild() from exc
    child.relation = relation  # type: ignore[attr-defined]  # as children_of annotates it
    return child


def update_child(*, user: User, child_id: int, data: dict) -> Child:
    child = child_of(user, child_id)
    if child is None:
        raise NotFound("Enfant introuvable.")
    errors = FieldErrors()
    allowed = {k: v for k, v in data.items() if k in {*CHILD_LIMITS, "birth_date", "relation"}}
    cleaned = _clean_child(allowed, errors, partial=True)
    errors.raise_if_any()
    relation = cleaned.pop("relation", None)
    for field, value in cleaned.items():
        setattr(child, field, value)
    identity = {f: getattr(child, f) for f in ("first_name", "last_name", "birth_date")}
    if _is_duplicate(child.family_id, identity, exclude_pk=child.pk):
        raise DuplicateChild()
    try:
        with transaction.atomic():
            if cleaned:
                child.save(update_fields=list(cleaned))
            if relation:
                ChildRelation.objects.update_or_create(
                    child=child, user=user, defaults={"relation": relation}
                )
                child.relation = relation  # type: ignore[attr-defined]
    except IntegrityError as exc:
        raise DuplicateChild() from exc
    return child


class ChildHasFutureBookings(Conflict):
    code = "child_has_future_reservations"
    message = (
        "Cet enfant a des réservations à venir. Confirmez : celles encore annulables seront "
        "annulées (et remboursées selon les règles de chaque commune)."
    )


def _booking_hook(name: str) -> Any:
    """The communes' booking code, named in settings: public code never imports tenant apps."""
    from django.utils.module_loading import import_string

    return import_string(settings.FAMILY_BOOKINGS_HOOKS[name])


def upcoming_bookings_of_child(*, user: User, child: Child) -> list:
    """[(commune, reservation), …] still to come for this child, in every commune."""
    return _booking_hook("upcoming_of_child")(user=user, child_id=child.pk)


def remove_child(*, user: User, child_id: int, cancel_bookings: bool = False) -> Child:
    """Take a child out of the family's list; the row stays for the communes' history.

    A child with upcoming reservations is never removed silently: the caller must confirm,
    and then every reservation that can still be cancelled is (with the usual refund).
    """
    child = child_of(user, child_id)
    if child is None:
        raise NotFound("Enfant introuvable.")
    upcoming = upcoming_bookings_of_child(user=user, child=child)
    if upcoming and not cancel_bookings:
        raise ChildHasFutureBookings(fields={"reservations": [str(len(upcoming))]})
    if upcoming:
        _booking_hook("cancel_upcoming_of_child")(user=user, child_id=child.pk)
    child.removed_at = timezone.now()
    child.save(update_fields=["removed_at"])
    return child


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EmailNotVerified(DomainError):
    code = "email_not_verified"
    status = 403
    message = (
        "Confirmez d’abord votre adresse e-mail (avec le lien reçu à l’inscription) "
        "avant d’inviter quelqu’un."
    )


class InvitationAlreadySent(Conflict):
    code = "invitation_already_sent"
    message = "Une invitation a déjà été envoyée à cette adresse. Elle n’est pas renvoyée."


class TooManyInvitations(RateLimited):
    message = (
        "Votre famille a envoyé le nombre maximal d’invitations pour aujourd’hui. Réessayez demain."
    )


class RecipientInvitedTooOften(RateLimited):
    message = "Cette adresse a reçu trop d’invitations aujourd’hui. Réessayez demain."


def invite_guardian(*, user: User, email: str, client_ip: str) -> tuple[Invitation, str]:
    """Invite a second guardian by e-mail; returns the invitation and its one-time token.

    Inputs: the inviting user (whose e-mail must be confirmed), the invitee's e-mail and the
    `client_ip` of the request. The e-mail carries no text of the inviter's choosing beyond
    their registered name, made plain (see `families.tasks`).
    Bounds: one live invitation per family and address (asking again sends nothing), at most
    `FAMILY_INVITATIONS_PER_DAY` per family and `INVITATIONS_PER_RECIPIENT_PER_DAY` to one
    address from any family in 24 hours, and the client address's hourly e-mail budget.
    Errors: `DomainError` (invalid e-mail, yourself), `EmailNotVerified`, `Conflict` (already
    a guardian), `InvitationAlreadySent`, `TooManyInvitations`, `RecipientInvitedTooOften`,
    `RateLimited`.
    """
    from shared_apps.families.tasks import send_invitation_email_task

    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError(
            "Adresse e-mail invalide.", fields={"email": ["Adresse e-mail invalide."]}
        ) from exc
    if email == user.email.lower():
        raise DomainError(
            "Vous ne pouvez pas vous inviter vous-même.",
            fields={"email": ["Indiquez l’adresse de l’autre responsable."]},
        )
    if not user.email_verified:
        raise EmailNotVerified()
    family = get_or_create_family(user)
    if family.guardians.filter(user__email__iexact=email).exists():
        raise Conflict("Cette personne fait déjà partie de votre famille.")
    now = timezone.now()
    day_ago = now - datetime.timedelta(days=1)
    with transaction.atomic():
        # One family's invitations are decided one at a time, so the counts below hold.
        Family.objects.select_for_update().filter(pk=family.pk).first()
        live = Invitation.objects.filter(
            family=family, email=email, accepted_at__isnull=True, expires_at__gt=now
        ).first()
        if live is not None:
            until = timezone.localtime(live.expires_at).strftime("%d/%m/%Y")
            message = (
                "Une invitation a déjà été envoyée à cette adresse ; elle reste valable "
                f"jusqu’au {until}. Elle n’est pas renvoyée."
            )
            raise InvitationAlreadySent(message, fields={"email": [message]})
        if (
            Invitation.objects.filter(family=family, created_at__gt=day_ago).count()
            >= settings.FAMILY_INVITATIONS_PER_DAY
        ):
            raise TooManyInvitations()
        if (
            Invitation.objects.filter(email=email, created_at__gt=day_ago).count()
            >= settings.INVITATIONS_PER_RECIPIENT_PER_DAY
        ):
            raise RecipientInvitedTooOften()
        spend_mail_budget(client_ip=client_ip)
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            family=family,
            email=email,
            token_hash=_hash(token),
            invited_by=user,
            expires_at=now + datetime.timedelta(days=settings.FAMILY_INVITATION_DAYS),
        )
        enqueue_on_commit(send_invitation_email_task, invitation.pk, token)
    return invitation, token


def invitation_for_token(token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("family", "invited_by")
        .filter(token_hash=_hash(token or ""), accepted_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        return None
    return invitation


def _family_has_no_history(family: Family) -> bool:
    from django.apps import apps

    Wallet = apps.get_model("wallet", "Wallet")
    Payment = apps.get_model("payments", "Payment")
    return not (
        family.children.exists()
        or family.communes.exists()
        or Wallet.objects.filter(family=family).exists()
        or Payment.objects.filter(family=family).exists()
    )


def accept_invitation(*, user: User, token: str) -> Family:
    """Join the inviting family. Only the invited e-mail's account can accept, once."""
    with transaction.atomic():
        invitation = invitation_for_token(token)
        if invitation is None:
            raise InvalidInvitation()
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvalidInvitation()
        if invitation.email.lower() != user.email.lower():
            raise InvitationForSomeoneElse()
        current = Guardian.objects.select_related("family").filter(user=user).first()
        if current and current.family_id != invitation.family_id:
            own = current.family
            if own.children.filter(removed_at__isnull=True).exists() or own.guardians.count() > 1:
                raise AlreadyInAFamily()
            current.delete()
            if _family_has_no_history(own):
                own.delete()  # never used: nothing to keep
            # Otherwise the old family stays, guardian-less, for the communes' history and its
            # ledger (removed children, requests, wallet): only this person moves.
        if not current or current.family_id != invitation.family_id:
            Guardian.objects.create(user=user, family=invitation.family)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return invitation.family


def note_commune(*, family_id: int, commune: Commune) -> None:
    """Remember that this family deals with this commune (idempotent)."""
    FamilyCommune.objects.get_or_create(family_id=family_id, commune=commune)


# --- The calendar feed ------------------------------------------------------------------------
# Calendar applications fetch /calendrier/<token>.ics without logging in: the token is the
# credential. 32 random bytes (43 url-safe characters) cannot be guessed.


def _new_calendar_feed_token() -> str:
    return secrets.token_urlsafe(32)


def calendar_feed_token(*, user: User) -> str:
    """The secret of the user's family's calendar feed, made on first use (idempotent: two
    guardians asking at once get the same one)."""
    family = get_or_create_family(user)
    if family.calendar_feed_token is None:
        Family.objects.filter(pk=family.pk, calendar_feed_token__isnull=True).update(
            calendar_feed_token=_new_calendar_feed_token()
        )
        family.refresh_from_db(fields=["calendar_feed_token"])
    assert family.calendar_feed_token is not None
    return family.calendar_feed_token


def reset_calendar_feed_token(*, user: User) -> str:
    """Replace the family's calendar feed secret: the old address stops working at once (for
    every guardian's calendar application, which must subscribe again). Audited."""
    family = get_or_create_family(user)
    token = _new_calendar_feed_token()
    with transaction.atomic():
        Family.objects.filter(pk=family.pk).update(calendar_feed_token=token)
        record(
            actor=user,
            action="family.calendar_feed_reset",
            target_type="family",
            target_id=family.pk,
            family_id=family.pk,
        )
    return token


# --- Consent for booking on the family's behalf ("cagnotte", guide step 7) ---------------------


def set_booking_consent(*, user: User, commune_id: int | str, given: bool) -> FamilyCommune:
    """A guardian gives (`given=True`) or revokes standing consent for a commune's staff to book
    on the family's behalf, paid from its wallet. Only a commune the family deals with
    (FamilyCommune); another id is NotFound. Idempotent: giving again keeps the first date.
    Audited ("family.booking_consent_given" / "family.booking_consent_revoked")."""
    family = get_or_create_family(user)
    if parse_id(commune_id) is None:
        raise NotFound("Commune introuvable.")
    with transaction.atomic():
        link = (
            FamilyCommune.objects.select_for_update()
            .select_related("commune")
            .filter(family=family, commune_id=commune_id, commune__is_active=True)
            .first()
        )
        if link is None:
            raise NotFound("Commune introuvable.")
        if given == (link.booking_consent_at is not None):
            return link
        link.booking_consent_at = timezone.now() if given else None
        link.booking_consent_by = user if given else None
        link.save(update_fields=["booking_consent_at", "booking_consent_by"])
        record(
            actor=user,
            commune=link.commune,
            action="family.booking_consent_given" if given else "family.booking_consent_revoked",
            target_type="family",
            target_id=family.pk,
            family_id=family.pk,
        )
    return link
