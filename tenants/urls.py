"""Reversing commune URLs: every commune URL carries the commune's slug."""

from __future__ import annotations

from django.urls import reverse

from tenants.models import Commune


def commune_reverse(commune: Commune, view_name: str, *, args=(), kwargs=None) -> str:
    return reverse(
        view_name,
        args=[commune.slug, *args] if args else None,
        kwargs=None if args else {"commune_slug": commune.slug, **(kwargs or {})},
    )
