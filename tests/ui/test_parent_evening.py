"""Issue 11, "the parent's evening": what a signed-in parent sees in the header, on "Mon
compte", on their home page, on "Mes services", at checkout and in the phone menu."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def header_of(html: str) -> str:
    return html.split('<main id="contenu"', 1)[0]


@pytest.fixture
def cards_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"


@pytest.fixture
def cards_off(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


# --- 1. "Recharger mon crédit" in the header, the wallet in "Mon compte" -----------------------


def test_header_offers_recharger_mon_credit_to_a_signed_in_parent(client, user, cards_on):
    client.force_login(user)
    header = header_of(text(client.get("/famille/")))
    assert '<a class="button top-up" href="/porte-monnaie/recharger/">Recharger mon crédit</a>' in (
        header
    )


def test_header_has_no_top_up_when_cards_are_off(client, user, cards_off):
    # A top-up is paid by card: no button leading to "paiement par carte indisponible".
    client.force_login(user)
    assert "Recharger mon crédit" not in header_of(text(client.get("/famille/")))


def test_header_has_no_top_up_when_signed_out(client, cards_on):
    assert "Recharger mon crédit" not in header_of(text(client.get("/")))


def test_mon_compte_links_to_the_wallet(client, user):
    client.force_login(user)
    html = text(client.get("/compte/"))
    main = html.split('<main id="contenu"', 1)[1]
    assert re.search(r'<a class="button" href="/porte-monnaie/">Mon porte-monnaie</a>', main)
