"""What django-axes counts login failures against: the account (its e-mail) and the address."""

from __future__ import annotations

from django.http import HttpRequest

from shared_apps.common.client_ip import UNKNOWN, client_ip


def address_of(request: HttpRequest) -> str | None:
    """The client address for axes (AXES_CLIENT_IP_CALLABLE): `client_ip`, None if unknown.

    axes stores it in an address column, which takes no placeholder text.
    """
    address = client_ip(request)
    return None if address == UNKNOWN else address


def login_of(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The e-mail a login attempt is for, lower-cased and trimmed (axes' AXES_USERNAME_CALLABLE).

    Inputs: the request, and the credentials given to `authenticate()` when axes has them
    (our services pass `username=`; the admin's form does too). Without credentials, the
    posted `email` or `username` field.
    Output: the normalised e-mail, or None when the attempt names no account.
    Without this, failures were stored with no username (the login field is `email`, not axes'
    default), so no account was ever locked and all anonymous failures shared one counter.
    """
    from shared_apps.accounts.services import normalize_email

    source = credentials if credentials else getattr(request, "POST", {})
    login = source.get("username") or source.get("email") or ""
    return normalize_email(login)[:254] or None  # axes stores at most 255 characters
