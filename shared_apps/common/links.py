"""Absolute links to the platform, for what leaves the request: e-mails, payment return URLs."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """The address of `path` (an absolute path, e.g. from reverse()) where people reach it.

    Built on settings.PUBLIC_BASE_URL, never on the request's Host header: an e-mail is read
    far from the request that sent it, and a forged Host must not end up in a link.
    """
    if not path.startswith("/"):
        raise ValueError(f"absolute_url needs a path starting with '/', not {path!r}")
    return settings.PUBLIC_BASE_URL + path
