"""E-mails a client can make us send are bounded per account and per client address."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
BUDGET = 20  # settings.MAIL_REQUESTS_PER_ADDRESS_PER_HOUR


def _from(client_address: str) -> dict:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_address}


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.MAIL_REQUESTS_PER_ADDRESS_PER_HOUR = BUDGET


def _sign_up(api, n: int, client_address: str):
    return api.post(
        "/api/v1/auth/register",
        {
            "email": f"parent{n}@exemple.fr",
            "password": "une-phrase-secrete",
            "first_name": "Inès",
            "last_name": "Bernard",
            "phone": "06 11 22 33 44",
            "address": "5 place de l’Église\n01990 Baneins",
        },
        **_from(client_address),
    )


def test_one_address_cannot_mail_reset_links_to_every_account(send_mail_now):
    accounts = UserFactory.create_batch(BUDGET + 3)
    api = APIClient()
    with send_mail_now():
        statuses = [
            api.post(
                "/api/v1/auth/password-reset", {"email": a.email}, **_from("198.51.100.7")
            ).status_code
            for a in accounts
        ]
        other = api.post(
            "/api/v1/auth/password-reset", {"email": accounts[-1].email}, **_from("198.51.100.8")
        )

    assert statuses == [202] * BUDGET + [429] * 3
    assert other.status_code == 202
    assert len(mail.outbox) == BUDGET + 1


def test_the_reset_budget_answers_the_api_error_format():
    user = UserFactory()
    api = APIClient()
    for _ in range(BUDGET):
        api.post("/api/v1/auth/password-reset", {"email": user.email}, **_from("198.51.100.7"))
    response = api.post(
        "/api/v1/auth/password-reset", {"email": "inconnu@exemple.fr"}, **_from("198.51.100.7")
    )
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert "Réessayez dans une heure" in error["message"]


def test_the_forgot_password_page_says_in_french_when_the_budget_is_spent(send_mail_now):
    accounts = UserFactory.create_batch(BUDGET + 1)
    client = Client()
    with send_mail_now():
        responses = [
            client.post("/compte/mot-de-passe-oublie/", {"email": a.email}, **_from("198.51.100.7"))
            for a in accounts
        ]
    assert [r.status_code for r in responses[:BUDGET]] == [200] * BUDGET
    assert responses[-1].status_code == 429
    assert "Trop de demandes d’e-mail depuis votre connexion" in responses[-1].content.decode()
    assert len(mail.outbox) == BUDGET


def test_one_address_cannot_sign_up_without_end(send_mail_now):
    api = APIClient()
    with send_mail_now():
        statuses = [_sign_up(api, n, "198.51.100.7").status_code for n in range(BUDGET + 1)]
        elsewhere = _sign_up(api, 99, "198.51.100.8")
    assert statuses == [201] * BUDGET + [429]
    assert elsewhere.status_code == 201
    assert len(mail.outbox) == BUDGET + 1


def test_the_verification_email_greets_nobody_by_the_name_typed_at_sign_up(send_mail_now):
    api = APIClient()
    with send_mail_now():
        response = api.post(
            "/api/v1/auth/register",
            {
                "email": "victime@exemple.fr",
                "password": "une-phrase-secrete",
                "first_name": "Votre colis attend",
                "last_name": "Payez sur arnaque",
                "phone": "06 11 22 33 44",
                "address": "5 place de l’Église\n01990 Baneins",
            },
            **_from("198.51.100.7"),
        )
    assert response.status_code == 201
    message = mail.outbox[0]
    assert "colis" not in message.subject + message.body + message.alternatives[0][0]


def test_the_verification_email_is_resent_at_most_every_five_minutes(send_mail_now):
    user = UserFactory(email_verified_at=None)
    client = Client()
    client.force_login(user)
    with send_mail_now():
        first = client.post("/compte/verifier/renvoyer/", follow=True, **_from("198.51.100.7"))
        second = client.post("/compte/verifier/renvoyer/", follow=True, **_from("198.51.100.7"))
    assert "Un nouvel e-mail de confirmation a été envoyé" in first.content.decode()
    assert "il y a moins de 5 minutes" in second.content.decode()
    assert len(mail.outbox) == 1

    with (
        time_machine.travel(timezone.now() + datetime.timedelta(minutes=6), tick=False),
        send_mail_now(),
    ):
        client.post("/compte/verifier/renvoyer/", **_from("198.51.100.7"))
    assert len(mail.outbox) == 2


def test_a_confirmed_address_gets_no_verification_email(send_mail_now):
    client = Client()
    client.force_login(UserFactory())
    with send_mail_now():
        page = client.post("/compte/verifier/renvoyer/", follow=True, **_from("198.51.100.7"))
    assert "déjà confirmée" in page.content.decode()
    assert not mail.outbox


def test_account_pages_budget_is_per_client_not_per_proxy():
    client = Client()
    statuses = [
        client.post(
            "/compte/acces/", {"email": f"p{i}@exemple.fr"}, **_from(f"203.0.113.{i + 1}")
        ).status_code
        for i in range(40)
    ]
    assert statuses == [302] * 40


def test_account_pages_budget_ignores_a_spoofed_header_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client()
    statuses = [
        client.post(
            "/compte/acces/", {"email": f"p{i}@exemple.fr"}, **_from(f"8.8.{i}.8")
        ).status_code
        for i in range(31)
    ]
    assert statuses == [302] * 30 + [429]


def test_the_password_step_is_throttled_like_the_other_account_forms():
    # Incomplete forms never reach django-axes: only the form throttle can stop them.
    client = Client()
    statuses = [
        client.post(
            "/compte/connexion/", {"email": "pas-une-adresse"}, **_from("198.51.100.7")
        ).status_code
        for _ in range(31)
    ]
    assert statuses == [200] * 30 + [429]


def test_api_throttle_counts_each_client_behind_the_proxy_apart():
    api = APIClient()
    statuses = [
        api.post(
            "/api/v1/auth/verify-email", {"token": "x"}, **_from(f"203.0.113.{i + 1}")
        ).status_code
        for i in range(35)
    ]
    assert 429 not in statuses
    # One client prepending a different fake address each time is still one client.
    same = [
        api.post(
            "/api/v1/auth/verify-email", {"token": "x"}, **_from(f"8.8.{i}.8, 198.51.100.7")
        ).status_code
        for i in range(31)
    ]
    assert same == [400] * 30 + [429]
