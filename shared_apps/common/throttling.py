"""DRF throttles keyed by the one client-address resolver (not DRF's own X-Forwarded-For rule)."""

from __future__ import annotations

from rest_framework import throttling

from shared_apps.common.client_ip import client_ip


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's scoped throttle; anonymous callers are counted per `client_ip`."""

    def get_ident(self, request) -> str:
        return client_ip(request)
