"""E-mail links follow the address the platform is served at (settings.PUBLIC_BASE_URL)."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.fixtures.clients import link_in

pytestmark = pytest.mark.django_db

SERVED_AT = "http://127.0.0.1:8123"


@pytest.fixture(autouse=True)
def served_at_8123(settings):
    settings.PUBLIC_BASE_URL = SERVED_AT


def test_the_verification_email_links_where_the_platform_is_served(client, send_mail_now):
    with send_mail_now():
        client.post(
            "/compte/inscription/",
            {
                "email": "nouveau.parent@exemple.fr",
                "first_name": "Inès",
                "last_name": "Bernard",
                "phone": "06 11 22 33 44",
                "address": "5 place de l’Église\n01990 Baneins",
                "password": "une-phrase-secrete",
            },
        )

    assert link_in(mail.outbox[0], "/compte/verifier/").startswith(SERVED_AT + "/compte/verifier/")
    assert "localhost:8000" not in mail.outbox[0].body


def test_the_reset_email_links_where_the_platform_is_served(client, user, send_mail_now):
    with send_mail_now():
        client.post("/compte/mot-de-passe-oublie/", {"email": user.email})

    link = link_in(mail.outbox[0], "/compte/mot-de-passe/nouveau/")
    assert link.startswith(SERVED_AT + "/compte/mot-de-passe/nouveau/")
    assert "localhost:8000" not in mail.outbox[0].alternatives[0][0]


def test_the_invitation_email_links_where_the_platform_is_served(client, user, send_mail_now):
    client.force_login(user)
    with send_mail_now():
        client.post("/famille/inviter/", {"email": "conjoint@exemple.fr"})

    link = link_in(mail.outbox[0], "/famille/invitation/")
    assert link.startswith(SERVED_AT + "/famille/invitation/")
