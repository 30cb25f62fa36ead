"""API tokens per device (issue 15): each sign-in makes one, stored hashed, expiring after
API_TOKEN_DAYS without use, revocable one by one; expired and revoked ones are refused with
their own stable code. The contract of API.md (`auth/token` → `{token}`, `Bearer`) holds."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from shared_apps.accounts.api_tokens import hash_key
from shared_apps.accounts.models import ApiToken
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _sign_in(user, device: str | None = None) -> str:
    body = {"email": user.email, "password": PASSWORD}
    if device is not None:
        body["device"] = device
    response = APIClient().post("/api/v1/auth/token", body, HTTP_USER_AGENT="Marelle/2.1 (Android)")
    assert response.status_code == 200, response.content
    assert set(response.json()) >= {"token"}
    return response.json()["token"]


def _as(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _error(response) -> str:
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]["code"]


def test_each_sign_in_is_a_device_and_revoking_one_leaves_the_others_working():
    user = UserFactory()
    phone, tablet = _sign_in(user, "Téléphone de Léa"), _sign_in(user)
    assert phone != tablet
    devices = _as(phone).get("/api/v1/auth/tokens").json()
    assert devices["count"] == 2
    by_name = {d["device"]: d for d in devices["results"]}
    assert by_name["Téléphone de Léa"]["current"] is True
    assert by_name["Marelle/2.1 (Android)"]["current"] is False  # the User-Agent by default
    assert all("token" not in d and "key_hash" not in d for d in devices["results"])

    revoked = _as(phone).delete(f"/api/v1/auth/tokens/{by_name['Marelle/2.1 (Android)']['id']}")

    assert revoked.status_code == 204
    refused = _as(tablet).get("/api/v1/me")
    assert refused.status_code == 401 and _error(refused) == "token_revoked"
    assert refused["WWW-Authenticate"] == "Bearer"
    assert _as(phone).get("/api/v1/me").status_code == 200
    assert _as(phone).get("/api/v1/auth/tokens").json()["count"] == 1


def test_logout_signs_out_this_device_only():
    user = UserFactory()
    phone, tablet = _sign_in(user), _sign_in(user)
    assert _as(phone).post("/api/v1/auth/logout").status_code == 204
    assert _error(_as(phone).get("/api/v1/me")) == "token_revoked"
    assert _as(tablet).get("/api/v1/me").status_code == 200


def test_another_persons_device_is_a_404_and_stays_signed_in():
    mine, theirs = _sign_in(UserFactory()), _sign_in(UserFactory())
    their_id = _as(theirs).get("/api/v1/auth/tokens").json()["results"][0]["id"]
    response = _as(mine).delete(f"/api/v1/auth/tokens/{their_id}")
    assert response.status_code == 404 and _error(response) == "not_found"
    assert _as(mine).delete("/api/v1/auth/tokens/987654321").status_code == 404
    assert _as(theirs).get("/api/v1/me").status_code == 200


def test_a_token_expires_after_its_days_without_use_and_slides_while_used(
    settings, django_capture_on_commit_callbacks
):
    user = UserFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key = _sign_in(user)
    with (
        time_machine.travel(start + datetime.timedelta(days=80), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert _as(key).get("/api/v1/me").status_code == 200  # used: 90 more days from here
    with (
        time_machine.travel(start + datetime.timedelta(days=169), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert _as(key).get("/api/v1/me").status_code == 200
    with time_machine.travel(start + datetime.timedelta(days=169 + settings.API_TOKEN_DAYS + 1)):
        expired = _as(key).get("/api/v1/me")
    assert expired.status_code == 401 and _error(expired) == "token_expired"


def test_tokens_are_never_stored_in_clear():
    user = UserFactory()
    key = _sign_in(user)
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == hash_key(key) and key not in token.key_hash
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        assert not any(key in str(value) for row in cursor.fetchall() for value in row)


def test_an_unknown_or_malformed_bearer_is_a_401_in_the_error_format():
    for header in ("Bearer nope", "Bearer a b", "Bearer"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/api/v1/me")
        assert response.status_code == 401 and _error(response) == "authentication_failed"


def test_a_new_password_signs_out_every_device_and_gives_this_one_a_new_token():
    user = UserFactory()
    phone, tablet = _sign_in(user, "phone"), _sign_in(user, "tablet")
    changed = _as(phone).post(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "tout-neuf-2026"}
    )
    assert changed.status_code == 200
    assert _error(_as(tablet).get("/api/v1/me")) == "token_revoked"
    assert _error(_as(phone).get("/api/v1/me")) == "token_revoked"
    fresh = _as(changed.json()["token"]).get("/api/v1/auth/tokens").json()["results"]
    assert [(d["device"], d["current"]) for d in fresh] == [("phone", True)]


def test_tokens_issued_before_per_device_tokens_keep_working_after_the_migration():
    """DRF's one token per user (stored in clear) becomes a hashed per-device token; the clear
    table is dropped (shared_apps/accounts/migrations/0003)."""
    import importlib

    forward = importlib.import_module(
        "shared_apps.accounts.migrations.0003_api_tokens_from_authtoken"
    ).FORWARD
    user = UserFactory()
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE public.authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamptz NOT NULL, user_id bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO public.authtoken_token VALUES (%s, now(), %s)", [old_key, user.pk]
        )
        cursor.execute(forward)
        cursor.execute("SELECT to_regclass('public.authtoken_token')")
        assert cursor.fetchone()[0] is None
    assert _as(old_key).get("/api/v1/me").json()["email"] == user.email
    assert ApiToken.objects.get(user=user).key_hash == hash_key(old_key)
