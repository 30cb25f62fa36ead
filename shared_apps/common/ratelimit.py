"""Budgets on the shared cache for what DRF's throttles and django-axes do not cover.

Every place a client can make us send an e-mail or spend a budget counts it here, per account
or recipient and per client address (`shared_apps.common.client_ip.client_ip`).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from shared_apps.common.errors import DomainError


class RateLimited(DomainError):
    """Too many requests of one kind: 429 with the API's `throttled` code (like DRF's throttles)."""

    code = "throttled"
    status = 429
    message = "Trop de demandes depuis votre connexion. Réessayez plus tard."


def too_many(scope: str, who: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit for `who` in `scope`; True when over `limit` in the current window."""
    window = int(time.time() // window_seconds)
    key = f"ratelimit:{scope}:{who}:{window}"
    if cache.add(key, 1, timeout=window_seconds + 1):
        return limit < 1
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        return False


def spend(
    scope: str, who: str, *, limit: int, window_seconds: int, message: str | None = None
) -> None:
    """Count one use of `scope` by `who`.

    Raises `RateLimited` (with `message`, or the default French one) once `who` has used it
    more than `limit` times in the current window of `window_seconds`.
    """
    if too_many(scope, who, limit=limit, window_seconds=window_seconds):
        raise RateLimited(message)


def spend_mail_budget(*, client_ip: str) -> None:
    """Count one e-mail a client address asks us to send (sign-up, reset, verification, invitation).

    One shared budget for every kind, so switching forms does not buy more e-mails.
    Raises `RateLimited` beyond `settings.MAIL_REQUESTS_PER_ADDRESS_PER_HOUR`.
    """
    spend(
        "mail-requests",
        client_ip,
        limit=settings.MAIL_REQUESTS_PER_ADDRESS_PER_HOUR,
        window_seconds=3600,
        message="Trop de demandes d’e-mail depuis votre connexion. Réessayez dans une heure.",
    )


def once_per(scope: str, who: str, *, seconds: int) -> bool:
    """True the first time `who` asks for `scope` in `seconds`, False until that time has passed."""
    return cache.add(f"once:{scope}:{who}", 1, timeout=seconds)
