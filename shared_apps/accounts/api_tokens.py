"""API tokens, one per device: issued at sign-in, hashed at rest, expiring, revocable one by one.

A key is 43 URL-safe characters (256 bits) shown once; the database keeps its SHA-256 only, so a
copy of the database signs no one in. A token expires `settings.API_TOKEN_DAYS` days after its
last use (the expiry slides forward at most once every `API_TOKEN_TOUCH_SECONDS`, so a request
usually costs no write) and can be revoked by its owner from any of their devices.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from shared_apps.accounts.models import ApiToken, User
from shared_apps.common.errors import NotFound

DEVICE_MAX_LENGTH = 100


class TokenExpired(AuthenticationFailed):
    """401 `token_expired` (with WWW-Authenticate, as any failed authentication)."""

    stable_error = ("token_expired", "Votre session a expiré : reconnectez-vous.")


class TokenRevoked(AuthenticationFailed):
    """401 `token_revoked`: this device was signed out (by its owner, or a new password)."""

    stable_error = ("token_revoked", "Cet appareil a été déconnecté : reconnectez-vous.")


def hash_key(key: str) -> str:
    """The SHA-256 (hex) of a key, as stored in `ApiToken.key_hash`."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once, never stored


def _lifetime() -> timedelta:
    return timedelta(days=settings.API_TOKEN_DAYS)


def issue(user: User, *, device: str = "") -> IssuedToken:
    """A new token for one device of `user` (`device`: a label the person recognises, cut to
    100 characters). Out: the token row and its clear key, to hand to the device once."""
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        device=(device or "").strip()[:DEVICE_MAX_LENGTH],
        key_hash=hash_key(key),
        created_at=now,
        expires_at=now + _lifetime(),
    )
    return IssuedToken(token=token, key=key)


def authenticate(key: str) -> ApiToken | None:
    """The live token for `key`, its expiry slid forward; None for an unknown key.

    Raises TokenRevoked or TokenExpired (401, stable codes) for a key that was valid once.
    """
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRevoked()
    if token.expires_at <= now:
        raise TokenExpired()
    touched = token.last_used_at
    if touched is None or (now - touched).total_seconds() >= settings.API_TOKEN_TOUCH_SECONDS:
        token.last_used_at, token.expires_at = now, now + _lifetime()
        pk, used, expires = token.pk, token.last_used_at, token.expires_at
        # Bookkeeping, once the request's own work is committed (at once in autocommit): it
        # never holds the token's row inside the request's transaction.
        transaction.on_commit(
            lambda: ApiToken.objects.filter(pk=pk).update(last_used_at=used, expires_at=expires)
        )
    return token


def live_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's tokens still usable (not revoked, not expired), newest first."""
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at", "-pk")


def revoke(user: User, token_id: int) -> None:
    """Revoke one of `user`'s tokens. Raises NotFound for another person's or an unknown id
    (never a 403: ids of other people's devices are not confirmed)."""
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated and not ApiToken.objects.filter(pk=token_id, user=user).exists():
        raise NotFound("Appareil introuvable.")


def revoke_all(user: User) -> int:
    """Revoke every token of `user` (a new password). Out: how many were live."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
