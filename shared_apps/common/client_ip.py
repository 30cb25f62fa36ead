"""The client's address, resolved once for login lockouts, API throttles and our own budgets."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "unknown"  # no peer at all: test clients' fake requests, never a real connection


def client_ip(request: HttpRequest) -> str:
    """The address of the client behind `request`, as far as our own proxies vouch for it.

    Input: a Django request (DRF's `Request` works too: it forwards `META`).
    Output: an IP address as text; `UNKNOWN` only when the server saw no peer at all.

    `settings.TRUSTED_PROXY_COUNT` is how many reverse proxies of ours stand in front of the
    application, each appending the address it received the request from to X-Forwarded-For.
    With 0 the header is ignored and the peer (REMOTE_ADDR) is the client. With N the client is
    the N-th entry from the right, the one our outermost proxy wrote: anything further left
    was sent by the client and is never trusted. A header shorter than N, or an entry that is
    not an address, means the request did not come through our proxies as configured, so the
    peer is used.
    """
    peer = _normalized(request.META.get("REMOTE_ADDR", "")) or UNKNOWN
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return peer
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    entries = [e for e in entries if e]
    if len(entries) < count:
        return peer
    return _normalized(entries[-count]) or peer


def _normalized(value: str) -> str:
    """One spelling per address ("::FFFF:1.2.3.4" and "1.2.3.4" are one client), or ""."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)
