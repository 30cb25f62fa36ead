"""Invitations cannot be used to mail anyone without end, nor to carry the inviter's own words."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.fixtures.clients import api_token_for

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


def _api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(user)}")
    return client


def _invite(client, email: str, client_address: str = "198.51.100.7"):
    return client.post(
        "/api/v1/family/invitations",
        {"email": email},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=client_address,
    )


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def test_inviting_the_same_address_again_sends_nothing(auth_api, send_mail_now):
    with send_mail_now():
        first = _invite(auth_api, "conjoint@exemple.fr")
        again = _invite(auth_api, "Conjoint@Exemple.fr")

    assert first.status_code == 201
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "invitation_already_sent"
    assert "déjà été envoyée" in error["message"]
    assert len(mail.outbox) == 1


def test_an_expired_invitation_can_be_sent_again(auth_api, send_mail_now):
    with send_mail_now():
        _invite(auth_api, "conjoint@exemple.fr")
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(days=8), tick=False),
        send_mail_now(),
    ):
        assert _invite(auth_api, "conjoint@exemple.fr").status_code == 201
    assert len(mail.outbox) == 2


def test_a_family_sends_a_few_invitations_a_day(auth_api, send_mail_now):
    with send_mail_now():
        statuses = [_invite(auth_api, f"personne{n}@ailleurs.fr").status_code for n in range(5)]
        refused = _invite(auth_api, "encore@ailleurs.fr")

    assert statuses == [201, 201, 201, 429, 429]
    assert refused.json()["error"]["code"] == "throttled"
    assert "Réessayez demain" in refused.json()["error"]["message"]
    assert len(mail.outbox) == 3

    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=25), tick=False),
        send_mail_now(),
    ):
        assert _invite(auth_api, "demain@ailleurs.fr").status_code == 201
    assert len(mail.outbox) == 4


def test_one_address_is_not_flooded_by_many_families(send_mail_now):
    inviters = [_api_for(UserFactory()) for _ in range(4)]
    with send_mail_now():
        statuses = [
            _invite(api, "cible@exemple.fr", f"203.0.113.{n + 1}").status_code
            for n, api in enumerate(inviters)
        ]
    assert statuses == [201, 201, 201, 429]
    assert len(mail.outbox) == 3


def test_one_client_address_cannot_invite_without_end_through_many_accounts(
    settings, send_mail_now
):
    settings.MAIL_REQUESTS_PER_ADDRESS_PER_HOUR = 4
    inviters = [_api_for(UserFactory()) for _ in range(5)]
    with send_mail_now():
        statuses = [
            _invite(api, f"cible{n}@exemple.fr", "198.51.100.7").status_code
            for n, api in enumerate(inviters)
        ]
    assert statuses == [201, 201, 201, 201, 429]
    assert len(mail.outbox) == 4


def test_an_unconfirmed_account_cannot_invite(send_mail_now):
    api = _api_for(UserFactory(email_verified_at=None))
    with send_mail_now():
        response = _invite(api, "conjoint@exemple.fr")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_not_verified"
    assert not mail.outbox


def test_the_invitation_carries_no_words_of_the_inviter_but_a_plain_name(send_mail_now):
    inviter = UserFactory(
        first_name="Urgent: votre compte CAF est suspendu, payez sur https://arnaque.example/caf",
        last_name="<b>Service</b> 0800 123 456",
    )
    with send_mail_now():
        assert _invite(_api_for(inviter), "conjoint@exemple.fr").status_code == 201

    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert message.subject == "Invitation à rejoindre une famille sur Marelle"
    for text in (message.body, html):
        assert "arnaque.example" not in text
        assert "https://arnaque" not in text
        assert "0800" not in text
        assert "<b>Service" not in text
        assert "« Urgent votre compte CAF est suspendu payez sur https arnaque" in text
    assert "/famille/invitation/" in message.body


def test_the_invitation_page_says_in_french_that_it_was_already_sent(client, user, send_mail_now):
    client.force_login(user)
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    with send_mail_now():
        sent = client.post("/famille/inviter/", {"email": "conjoint@exemple.fr"}, **meta)
        again = client.post("/famille/inviter/", {"email": "conjoint@exemple.fr"}, **meta)
    assert sent.status_code == 302
    assert again.status_code == 200
    assert "Une invitation a déjà été envoyée à cette adresse" in again.content.decode()
    assert len(mail.outbox) == 1


def test_the_invitation_page_answers_429_in_french_beyond_the_daily_limit(
    client, user, send_mail_now
):
    client.force_login(user)
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    with send_mail_now():
        for n in range(3):
            client.post("/famille/inviter/", {"email": f"p{n}@ailleurs.fr"}, **meta)
        refused = client.post("/famille/inviter/", {"email": "p9@ailleurs.fr"}, **meta)
    assert refused.status_code == 429
    assert "nombre maximal d’invitations pour aujourd’hui" in refused.content.decode()
    assert len(mail.outbox) == 3
