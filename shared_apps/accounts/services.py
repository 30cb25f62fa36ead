"""Account use cases: sign-up, e-mail verification, password reset and change, profile."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from config.celery import enqueue_on_commit
from shared_apps.accounts.models import User
from shared_apps.accounts.tokens import (
    email_verification_tokens,
    password_reset_tokens,
    user_for_link_token,
)
from shared_apps.common.errors import DomainError
from shared_apps.common.ratelimit import RateLimited, once_per, spend_mail_budget
from shared_apps.common.validation import (
    FieldErrors,
    check_required,
    clean_text,
    normalize_phone,
)


class InvalidLink(DomainError):
    code = "invalid_token"
    message = "Ce lien n’est plus valide : il a déjà servi ou il a expiré. Demandez-en un nouveau."


class EmailTaken(DomainError):
    code = "email_taken"
    status = 409
    message = "Un compte existe déjà avec cette adresse e-mail. Connectez-vous."


class WrongCredentials(DomainError):
    code = "invalid_credentials"
    status = 400
    message = "Adresse e-mail ou mot de passe incorrect."


class LockedOut(DomainError):
    code = "throttled"
    status = 429
    message = "Trop de tentatives de connexion. Réessayez dans 15 minutes."


PROFILE_LIMITS = {"first_name": 150, "last_name": 150, "address": 500}
PROFILE_LABELS = {"first_name": "Prénom", "last_name": "Nom", "address": "Adresse postale"}


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def _clean_profile(data: dict, errors: FieldErrors, *, partial: bool) -> dict:
    cleaned: dict = {}
    for field in ("first_name", "last_name"):
        if field in data or not partial:
            value = clean_text(data.get(field), max_length=PROFILE_LIMITS[field])
            check_required(errors, field, value, PROFILE_LABELS[field], PROFILE_LIMITS[field])
            cleaned[field] = value
    if "address" in data or not partial:
        value = "\n".join(
            line.strip()
            for line in (data.get("address") or "").strip().splitlines()
            if line.strip()
        )
        check_required(errors, "address", value, "Adresse postale", PROFILE_LIMITS["address"])
        cleaned["address"] = value
    if "phone" in data or not partial:
        phone = normalize_phone(data.get("phone") or "")
        if phone is None:
            errors.add("phone", "Numéro de téléphone français attendu, par ex. 06 12 34 56 78.")
        cleaned["phone"] = phone
    return cleaned


def _check_password(
    errors: FieldErrors, password: str, user: User | None, field: str = "password"
) -> None:
    if not password:
        errors.add(field, "Choisissez un mot de passe.")
        return
    try:
        validate_password(password, user)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add(field, message)


def register_user(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str,
    address: str,
    client_ip: str,
) -> User:
    """Create a parent's account (personal details entered once) and send the verification link.

    `client_ip` (from `shared_apps.common.client_ip`) pays for the verification e-mail out of
    its hourly budget. Errors: `FieldErrors` for bad input, `EmailTaken`, `RateLimited`.
    """
    errors = FieldErrors()
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        errors.add("email", "Adresse e-mail invalide.")
    profile = _clean_profile(
        {"first_name": first_name, "last_name": last_name, "phone": phone, "address": address},
        errors,
        partial=False,
    )
    _check_password(errors, password, User(email=email, **{k: v or "" for k, v in profile.items()}))
    errors.raise_if_any()
    if User.objects.filter(email=email).exists():
        raise EmailTaken(fields={"email": [EmailTaken.message]})
    spend_mail_budget(client_ip=client_ip)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email, password, **profile)
    except IntegrityError as exc:  # the same e-mail registered concurrently
        raise EmailTaken(fields={"email": [EmailTaken.message]}) from exc
    once_per("verification-mail", str(user.pk), seconds=settings.ACCOUNT_MAIL_INTERVAL_SECONDS)
    _send_verification_email(user)
    return user


class VerificationMailTooSoon(RateLimited):
    message = (
        "Un e-mail de confirmation vous a été envoyé il y a moins de 5 minutes. "
        "Vérifiez votre boîte de réception (et les indésirables) avant d’en demander un autre."
    )


def resend_verification_email(*, user: User, client_ip: str) -> bool:
    """Send the verification link again, at most once per account every 5 minutes.

    Inputs: the signed-in user and their `client_ip`. Output: True when an e-mail is queued,
    False when the address is already confirmed (nothing to send).
    Errors: `VerificationMailTooSoon` within 5 minutes of the last one, `RateLimited` once the
    client address has spent its hourly e-mail budget.
    """
    if user.email_verified:
        return False
    spend_mail_budget(client_ip=client_ip)
    if not once_per(
        "verification-mail", str(user.pk), seconds=settings.ACCOUNT_MAIL_INTERVAL_SECONDS
    ):
        raise VerificationMailTooSoon()
    _send_verification_email(user)
    return True


def _send_verification_email(user: User) -> None:
    from shared_apps.accounts.tasks import send_verification_email_task

    enqueue_on_commit(send_verification_email_task, user.pk)


def verify_email(*, token: str) -> User:
    user = user_for_link_token(token, email_verification_tokens)
    if user is None or user.email_verified:
        raise InvalidLink()
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user


def request_password_reset(*, email: str, client_ip: str) -> None:
    """Send a reset link if the account exists; say nothing either way.

    One e-mail per account every 5 minutes however often it is asked. Every request, for a
    known address or not (so the answer tells nothing), spends the `client_ip`'s hourly e-mail
    budget. Errors: `RateLimited` once that budget is spent.
    """
    from shared_apps.accounts.tasks import send_password_reset_email_task

    spend_mail_budget(client_ip=client_ip)
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None and once_per(
        "password-reset-mail", str(user.pk), seconds=settings.ACCOUNT_MAIL_INTERVAL_SECONDS
    ):
        enqueue_on_commit(send_password_reset_email_task, user.pk)


def reset_password(*, token: str, password: str) -> User:
    user = user_for_link_token(token, password_reset_tokens)
    if user is None:
        raise InvalidLink()
    errors = FieldErrors()
    _check_password(errors, password, user)
    errors.raise_if_any()
    user.set_password(password)
    # A reset proves the mailbox is theirs.
    user.email_verified_at = user.email_verified_at or timezone.now()
    user.save(update_fields=["password", "email_verified_at"])
    revoke_api_tokens(user)
    return user


def revoke_api_tokens(user: User) -> None:
    """A new password cuts off every app signed in with the old one (sessions: Django does)."""
    from shared_apps.accounts import api_tokens

    api_tokens.revoke_all(user)


def change_password(*, user: User, current_password: str, new_password: str) -> None:
    errors = FieldErrors()
    if not user.check_password(current_password or ""):
        errors.add("current_password", "Le mot de passe actuel est incorrect.")
    _check_password(errors, new_password, user, field="new_password")
    errors.raise_if_any()
    user.set_password(new_password)
    user.save(update_fields=["password"])
    revoke_api_tokens(user)


def update_profile(*, user: User, data: dict) -> User:
    """Change the personal details and, with `booking_reminders` (bool), whether reminders
    before booking deadlines are sent; the e-mail (the login) is not changed here."""
    from shared_apps.jobs.services import set_booking_reminders

    errors = FieldErrors()
    allowed = {
        k: v for k, v in data.items() if k in {"first_name", "last_name", "phone", "address"}
    }
    cleaned = _clean_profile(allowed, errors, partial=True)
    errors.raise_if_any()
    for field, value in cleaned.items():
        setattr(user, field, value)
    if cleaned:
        user.save(update_fields=list(cleaned))
    if isinstance(data.get("booking_reminders"), bool):
        set_booking_reminders(user=user, enabled=data["booking_reminders"])
    return user


def authenticate_user(request: HttpRequest, *, email: str, password: str) -> User:
    """Check credentials through django-axes, which counts failures per account and per address.

    Inputs: the Django request (axes reads the client address from it through `client_ip`),
    the e-mail (the account, normalised) and the password.
    Output: the user. Errors: `LockedOut` (429) when the account or the address has failed
    5 times in 15 minutes, even with the right password; `WrongCredentials` otherwise.
    """
    user = authenticate(request, username=normalize_email(email), password=password or "")
    if getattr(request, "axes_locked_out", False):
        raise LockedOut()
    if user is None:
        raise WrongCredentials()
    return user
