"""A small fixed-window rate limit on the shared cache, for pages DRF's throttles do not cover."""

from __future__ import annotations

import time

from django.core.cache import cache


def too_many(scope: str, who: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit for `who` in `scope`; True when over `limit` in the current window."""
    window = int(time.time() // window_seconds)
    key = f"ratelimit:{scope}:{who}:{window}"
    if cache.add(key, 1, timeout=window_seconds + 1):
        return False
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        return False


def client_address(request) -> str:
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or "unknown"
