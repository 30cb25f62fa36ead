"""Account API: register, verify, token, reset, profile — happy paths and every bad input."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail

from shared_apps.accounts.models import User
from tests.factories import PASSWORD, UserFactory
from tests.fixtures.clients import link_in

pytestmark = pytest.mark.django_db

VALID = {
    "email": "Claire.Dupont@Exemple.fr ",
    "password": "un-mot-de-passe-solide",
    "first_name": " Claire ",
    "last_name": "Dupont",
    "phone": "+33 6 12 34 56 78",
    "address": "3 rue du Lavoir\n01390 Saint-Marcel",
}


def _token_from(message, marker: str) -> str:
    return link_in(message, marker).rstrip("/").rsplit("/", 1)[1]


def test_register_creates_the_account_and_sends_a_verification_email(api, send_mail_now):
    with send_mail_now():
        response = api.post("/api/v1/auth/register", VALID)

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "claire.dupont@exemple.fr"
    assert body["first_name"] == "Claire"
    assert body["phone"] == "06 12 34 56 78"
    assert body["email_verified"] is False and body["family_id"] is None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["claire.dupont@exemple.fr"]
    assert "Confirmez" in message.subject
    assert message.alternatives and message.alternatives[0][1] == "text/html"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "pas-une-adresse"),
        ("email", ""),
        ("password", "123"),
        ("password", "12345678901"),
        ("password", "password"),
        ("first_name", "   "),
        ("last_name", ""),
        ("last_name", "x" * 151),
        ("phone", "12345"),
        ("phone", "+44 20 7946 0958"),
        ("address", ""),
    ],
)
def test_register_refuses_bad_input_with_a_french_message_and_saves_nothing(api, field, value):
    response = api.post("/api/v1/auth/register", {**VALID, field: value})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not User.objects.exists()
    assert not mail.outbox


def test_register_with_missing_fields_is_a_400_not_a_500(api):
    response = api.post("/api/v1/auth/register", {"email": "a@b.fr"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) >= {"password", "first_name", "phone"}


def test_register_with_a_taken_email_is_a_conflict(api):
    UserFactory(email="claire.dupont@exemple.fr")
    response = api.post("/api/v1/auth/register", VALID)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"
    assert User.objects.count() == 1


def test_verification_link_works_once(api, send_mail_now):
    with send_mail_now():
        api.post("/api/v1/auth/register", VALID)
    token = _token_from(mail.outbox[0], "/compte/verifier/")

    assert api.post("/api/v1/auth/verify-email", {"token": token}).status_code == 200
    assert User.objects.get().email_verified

    again = api.post("/api/v1/auth/verify-email", {"token": token})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"


def test_verification_link_expires_after_a_day(api, send_mail_now):
    with send_mail_now():
        api.post("/api/v1/auth/register", VALID)
    token = _token_from(mail.outbox[0], "/compte/verifier/")

    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(hours=25)):
        response = api.post("/api/v1/auth/verify-email", {"token": token})

    assert response.status_code == 400
    assert not User.objects.get().email_verified


@pytest.mark.parametrize("token", ["", "abc", "MQ.abc-def", "zz.zz", "Mg." + "a" * 40])
def test_forged_verification_tokens_are_refused(api, token, user):
    response = api.post("/api/v1/auth/verify-email", {"token": token})
    assert response.status_code == 400


def test_token_login_then_bearer_requests(api, user):
    response = api.post("/api/v1/auth/token", {"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    me = api.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == user.email


def test_wrong_password_is_refused_without_saying_which_part_is_wrong(api, user):
    response = api.post("/api/v1/auth/token", {"email": user.email, "password": "mauvais"})
    unknown = api.post("/api/v1/auth/token", {"email": "personne@nulle.fr", "password": "x"})
    assert response.status_code == unknown.status_code == 400
    assert response.json() == unknown.json()
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_repeated_failures_lock_the_account_with_a_429(api, user):
    for _ in range(5):
        api.post("/api/v1/auth/token", {"email": user.email, "password": "mauvais"})
    locked = api.post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "throttled"
    assert "15 minutes" in locked.json()["error"]["message"]


def test_anonymous_profile_request_is_a_401_in_the_error_format(api):
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_bad_bearer_token_is_a_401(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api.get("/api/v1/me").status_code == 401


def test_patch_profile_trims_and_normalises(auth_api):
    response = auth_api.patch(
        "/api/v1/me", {"first_name": "  Anne  ", "phone": "0033 4 71 00 00 00"}
    )
    assert response.status_code == 200
    assert response.json()["first_name"] == "Anne"
    assert response.json()["phone"] == "04 71 00 00 00"


def test_patch_profile_with_a_bad_phone_changes_nothing(auth_api, user):
    before = (user.first_name, user.phone)
    response = auth_api.patch("/api/v1/me", {"first_name": "Autre", "phone": "0800"})
    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]
    user.refresh_from_db()
    assert (user.first_name, user.phone) == before


def test_patch_profile_cannot_change_the_email(auth_api, user):
    auth_api.patch("/api/v1/me", {"email": "autre@exemple.fr"})
    user.refresh_from_db()
    assert user.email != "autre@exemple.fr"


def test_password_reset_answers_the_same_for_known_and_unknown_emails(api, user, send_mail_now):
    with send_mail_now():
        known = api.post("/api/v1/auth/password-reset", {"email": user.email})
        unknown = api.post("/api/v1/auth/password-reset", {"email": "inconnu@exemple.fr"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_password_reset_link_works_once(api, user, send_mail_now):
    with send_mail_now():
        api.post("/api/v1/auth/password-reset", {"email": user.email})
    token = _token_from(mail.outbox[0], "/compte/mot-de-passe/nouveau/")

    ok = api.post(
        "/api/v1/auth/password-reset/confirm", {"token": token, "password": "nouveau-secret-42"}
    )
    assert ok.status_code == 200
    user.refresh_from_db()
    assert user.check_password("nouveau-secret-42")

    reuse = api.post(
        "/api/v1/auth/password-reset/confirm", {"token": token, "password": "encore-un-autre-43"}
    )
    assert reuse.status_code == 400
    user.refresh_from_db()
    assert user.check_password("nouveau-secret-42")


def test_password_reset_link_expires(api, user, send_mail_now):
    with send_mail_now():
        api.post("/api/v1/auth/password-reset", {"email": user.email})
    token = _token_from(mail.outbox[0], "/compte/mot-de-passe/nouveau/")
    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(days=2)):
        response = api.post(
            "/api/v1/auth/password-reset/confirm", {"token": token, "password": "nouveau-secret-42"}
        )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_with_a_weak_password_keeps_the_old_one(api, user, send_mail_now):
    with send_mail_now():
        api.post("/api/v1/auth/password-reset", {"email": user.email})
    token = _token_from(mail.outbox[0], "/compte/mot-de-passe/nouveau/")
    response = api.post("/api/v1/auth/password-reset/confirm", {"token": token, "password": "123"})
    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_change_password_needs_the_current_one(auth_api, user):
    wrong = auth_api.post(
        "/api/v1/me/password", {"current_password": "faux", "new_password": "tout-neuf-2026"}
    )
    assert wrong.status_code == 400
    assert "current_password" in wrong.json()["error"]["fields"]
    ok = auth_api.post(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "tout-neuf-2026"}
    )
    assert ok.status_code == 200
    user.refresh_from_db()
    assert user.check_password("tout-neuf-2026")


def test_logout_revokes_the_token(auth_api):
    assert auth_api.post("/api/v1/auth/logout").status_code == 204
    assert auth_api.get("/api/v1/me").status_code == 401


def test_malformed_json_is_a_400(api):
    response = api.post("/api/v1/auth/token", "{pas du json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_new_password_revokes_every_api_token(api, user):
    old = api.post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD}).json()[
        "token"
    ]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
    changed = api.post(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "tout-neuf-2026"}
    )
    assert changed.status_code == 200 and changed.json()["token"] != old
    assert api.get("/api/v1/me").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {changed.json()['token']}")
    assert api.get("/api/v1/me").status_code == 200


def test_reset_emails_are_sent_at_most_every_five_minutes(api, user, send_mail_now):
    with send_mail_now():
        for _ in range(3):
            assert api.post("/api/v1/auth/password-reset", {"email": user.email}).status_code == 202
    assert len(mail.outbox) == 1
