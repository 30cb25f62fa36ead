"""Login lockouts behind the documented proxy: per account and per client address, never shared.

Every request comes from the proxy (REMOTE_ADDR) and names its client in X-Forwarded-For, as
nginx or the ingress of deploy/ do. Each scenario runs on the login page and the token endpoint.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
CHANNELS = ["page", "api"]


def _login(channel: str, email: str, password: str, *, client: str | None = None, xff=None):
    """Try to log in through the proxy; returns "ok", "wrong" or "locked" — what one sees."""
    meta = {"REMOTE_ADDR": PROXY}
    if xff or client:
        meta["HTTP_X_FORWARDED_FOR"] = xff or client
    return _login_from(channel, email, password, meta)


def _login_from(channel: str, email: str, password: str, meta: dict) -> str:
    credentials = {"email": email, "password": password}
    if channel == "page":
        response = Client().post("/compte/connexion/", credentials, **meta)
        outcomes = {302: "ok", 200: "wrong", 429: "locked"}
    else:
        response = APIClient().post("/api/v1/auth/token", credentials, format="json", **meta)
        outcomes = {200: "ok", 400: "wrong", 429: "locked"}
    outcome = outcomes[response.status_code]
    if outcome == "locked":
        assert "Trop de tentatives de connexion" in response.content.decode()
    return outcome


@pytest.fixture
def one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


@pytest.mark.parametrize("channel", CHANNELS)
def test_one_client_failing_behind_the_proxy_does_not_lock_out_the_others(channel, one_proxy):
    parents = UserFactory.create_batch(10)
    failures = [
        _login(channel, f"essai{i}@exemple.fr", "devine", client="198.51.100.66") for i in range(5)
    ]
    assert failures == ["wrong"] * 4 + ["locked"]  # the fifth failure locks the address

    assert _login(channel, parents[0].email, PASSWORD, client="198.51.100.66") == "locked"
    for n, parent in enumerate(parents):
        assert _login(channel, parent.email, PASSWORD, client=f"198.51.100.{n + 1}") == "ok"


@pytest.mark.parametrize("channel", CHANNELS)
def test_guesses_spread_over_many_addresses_lock_the_account_only(channel, one_proxy):
    victim, other = UserFactory(), UserFactory()
    for n in range(10):
        for _ in range(4):
            outcome = _login(channel, victim.email, "devine", client=f"203.0.113.{n + 1}")
            assert outcome in {"wrong", "locked"}

    assert _login(channel, victim.email, PASSWORD, client="198.51.100.200") == "locked"
    assert _login(channel, victim.email.upper(), PASSWORD, client="198.51.100.201") == "locked"
    assert _login(channel, other.email, PASSWORD, client="203.0.113.1") == "ok"


@pytest.mark.parametrize("channel", CHANNELS)
def test_five_wrong_passwords_lock_the_account_before_any_address(channel, one_proxy):
    victim = UserFactory()
    outcomes = [
        _login(channel, victim.email, "devine", client=f"203.0.113.{n + 1}") for n in range(6)
    ]
    assert outcomes == ["wrong"] * 4 + ["locked"] * 2


@pytest.mark.parametrize("channel", CHANNELS)
def test_without_trusted_proxies_a_spoofed_header_does_not_escape_the_address_lock(channel):
    parent = UserFactory()
    failures = [
        _login(channel, f"essai{i}@exemple.fr", "devine", xff=f"8.8.{i}.8") for i in range(5)
    ]
    assert failures == ["wrong"] * 4 + ["locked"]

    assert _login(channel, parent.email, PASSWORD, xff="8.8.99.8") == "locked"
    # The lock sits on the attacker's own connection, not on everyone.
    elsewhere = {"REMOTE_ADDR": "198.51.100.50"}
    assert _login_from(channel, parent.email, PASSWORD, elsewhere) == "ok"


@pytest.mark.parametrize("channel", CHANNELS)
def test_with_one_proxy_prepended_fake_addresses_do_not_escape_the_address_lock(channel, one_proxy):
    parent, neighbour = UserFactory(), UserFactory()
    failures = [
        # The client's fake entry, then the one nginx appends.
        _login(channel, f"essai{i}@exemple.fr", "devine", xff=f"8.8.{i}.8, 198.51.100.7")
        for i in range(5)
    ]
    assert failures == ["wrong"] * 4 + ["locked"]

    assert _login(channel, parent.email, PASSWORD, xff="8.8.99.8, 198.51.100.7") == "locked"
    assert _login(channel, neighbour.email, PASSWORD, client="198.51.100.8") == "ok"
