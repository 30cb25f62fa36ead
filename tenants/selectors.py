"""Reads of communes and memberships."""

from __future__ import annotations

import time

from django.db.models import QuerySet

from tenants.models import Commune, Membership, Role

# Tenant resolution runs on every commune request: keep a short per-process cache of the
# commune row (never of business data). Saves of a commune clear it in this process; other
# processes see a change within the TTL.
_CACHE_TTL_SECONDS = 30.0
_commune_cache: dict[str, tuple[float, Commune | None]] = {}


def commune_for_slug(slug: str) -> Commune | None:
    now = time.monotonic()
    cached = _commune_cache.get(slug)
    if cached and now - cached[0] < _CACHE_TTL_SECONDS:
        return cached[1]
    commune = Commune.objects.filter(slug=slug, is_active=True).first()
    if commune is not None:  # misses are not kept: any path could fill the cache with them
        _commune_cache[slug] = (now, commune)
    return commune


def forget_commune(slug: str | None = None) -> None:
    if slug is None:
        _commune_cache.clear()
    else:
        _commune_cache.pop(slug, None)


def active_communes() -> QuerySet[Commune]:
    return Commune.objects.filter(is_active=True).order_by("name")


def membership_for(user, commune: Commune) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, commune=commune).first()


def is_staff_of(user, commune: Commune, *, roles: tuple[str, ...] = tuple(Role.values)) -> bool:
    membership = membership_for(user, commune)
    return membership is not None and membership.role in roles
