"""Reads of communes and memberships."""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING

from django.core.cache import caches
from django.db import transaction
from django.db.models import QuerySet

from tenants.models import Commune, Membership, Role, StaffInvitation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.core.cache.backends.base import BaseCache

    from shared_apps.accounts.models import User

logger = logging.getLogger(__name__)

# Tenant resolution runs on every commune request, so each process keeps the commune rows it
# resolved (never business data). A process may not trust its copy on its own: every Commune
# save, rename, deactivation or deletion writes a new routing version to the platform cache
# (Redis when REDIS_URL is set, shared by every process), and an entry cached under another
# version is looked up again. The TTL only bounds how long a row is kept when nothing changes.
ROUTING_VERSION_KEY = "tenants:commune-routing-version"
_CACHE_TTL_SECONDS = 60.0


def _platform_cache() -> BaseCache:
    return caches["platform"]


def routing_version() -> str | None:
    """The shared routing version, created if the cache lost it; None if the cache is down.

    None means "trust nothing": the caller reads the database and keeps nothing.
    """
    cache = _platform_cache()
    try:
        version = cache.get(ROUTING_VERSION_KEY)
        if version is None:
            cache.add(ROUTING_VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(ROUTING_VERSION_KEY)
    except Exception:  # a shared cache that cannot answer must not take the site down
        logger.warning("commune routing version unreadable: resolving from the database")
        return None
    return version


def bump_routing_version() -> None:
    """Tell every process that the communes changed: their cached rows are stale.

    Bumped at once (this connection already sees the change) and again after commit (other
    connections only see it then: one that refilled its cache in between must refill again).
    """

    def bump() -> None:
        try:
            _platform_cache().set(ROUTING_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        except Exception:
            logger.exception("commune routing version could not be bumped")

    bump()
    transaction.on_commit(bump)


class CommuneCache:
    """One process's memory of slug → active commune, checked against the routing version.

    The module keeps one instance per process (`process_communes`); tests build several to
    stand for several processes.
    """

    def __init__(self, ttl_seconds: float = _CACHE_TTL_SECONDS):
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, tuple[float, str, Commune]] = {}

    def get(self, slug: str) -> Commune | None:
        """The active commune with this slug, or None (unknown, inactive, renamed away)."""
        now = time.monotonic()
        version = routing_version()
        cached = self._entries.get(slug)
        if (
            cached
            and version is not None
            and cached[1] == version
            and now - cached[0] < self.ttl_seconds
        ):
            return cached[2]
        commune = Commune.objects.filter(slug=slug, is_active=True).first()
        if commune is None:  # misses are not kept: any path could fill the cache with them
            self._entries.pop(slug, None)
        elif version is not None:
            self._entries[slug] = (now, version, commune)
        return commune

    def forget(self, slug: str | None = None) -> None:
        if slug is None:
            self._entries.clear()
        else:
            self._entries.pop(slug, None)


process_communes = CommuneCache()


def commune_for_slug(slug: str) -> Commune | None:
    """The active commune served at /c/<slug>/, or None. Cached per process (see above)."""
    return process_communes.get(slug)


def forget_commune(slug: str | None = None) -> None:
    """Drop this process's cached commune(s); other processes learn from the routing version."""
    process_communes.forget(slug)


def active_communes() -> QuerySet[Commune]:
    return Commune.objects.filter(is_active=True).order_by("name")


def membership_for(user: User | AnonymousUser, commune: Commune) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, commune=commune).first()


def is_staff_of(
    user: User | AnonymousUser, commune: Commune, *, roles: tuple[str, ...] = tuple(Role.values)
) -> bool:
    membership = membership_for(user, commune)
    return membership is not None and membership.role in roles


def staff_of(commune: Commune) -> QuerySet[Membership]:
    """The commune's staff with their accounts: managers first, then by name."""
    from django.db.models import Case, IntegerField, Value, When

    return (
        Membership.objects.filter(commune=commune)
        .select_related("user")
        .annotate(
            manager_first=Case(
                When(role=Role.MANAGER, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("manager_first", "user__last_name", "user__first_name", "user__email")
    )


def pending_staff_invitations(commune: Commune) -> QuerySet[StaffInvitation]:
    """The commune's invitations still waiting for an answer (not used, withdrawn or expired)."""
    from django.utils import timezone

    return (
        StaffInvitation.objects.filter(
            commune=commune,
            accepted_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created_at")
    )


def staff_destinations(user: User | AnonymousUser) -> list[Commune]:
    """The active communes where `user` is staff, by name (one query)."""
    if not user.is_authenticated:
        return []
    return [
        m.commune
        for m in Membership.objects.filter(user=user, commune__is_active=True)
        .select_related("commune")
        .order_by("commune__name")
    ]
