"""Pages: "Recharger mon crédit", the card payment step, and the state shown from our database."""

from __future__ import annotations

import pytest

from shared_apps.payments.models import Payment
from tests.factories import UserFactory
from tests.payments.offline import CARD_OK, event_for, sign

pytestmark = pytest.mark.django_db

TOP_UP_URL = "/porte-monnaie/recharger/"


@pytest.fixture
def parent(client, auth_api, family):
    client.force_login(auth_api.user)
    return client


def test_the_top_up_page_offers_presets_a_free_amount_and_the_pockets(parent, cantine):
    page = parent.get(TOP_UP_URL).content.decode()

    assert "<h1>Recharger mon crédit</h1>" in page
    for preset in ("10,00\u00a0€", "20,00\u00a0€", "50,00\u00a0€", "Autre montant"):
        assert preset in page
    assert "Tous les services" in page
    assert 'value="commune-a:7"' in page and "Cantine de Commune A" in page
    assert "Entre 5,00\u00a0€ et 500,00\u00a0€" in page


def test_the_pocket_can_be_preselected_from_a_link(parent, cantine):
    page = parent.get(f"{TOP_UP_URL}?commune=commune-a&service=7").content.decode()

    assert 'value="commune-a:7" selected' in page


def test_general_credit_is_not_offered_when_switched_off(parent, cantine, settings):
    settings.WALLET_GENERAL_CREDIT_ENABLED = False

    page = parent.get(TOP_UP_URL).content.decode()

    assert 'value="general"' not in page
    assert 'value="commune-a:7"' in page


@pytest.mark.parametrize(
    ("data", "cents"),
    [
        ({"preset": "2000", "pocket": "commune-a:7"}, 2000),
        ({"preset": "other", "other_amount": "25,50", "pocket": "commune-a:7"}, 2550),
        ({"other_amount": " 25.50 € ", "pocket": "general"}, 2550),
        ({"preset": "5000", "other_amount": "", "pocket": "general"}, 5000),
    ],
)
def test_choosing_an_amount_leads_to_the_card_payment(parent, cantine, data, cents, settings):
    response = parent.post(TOP_UP_URL, data)

    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/porte-monnaie/recharger/{payment.pk}/paiement/"
    assert payment.amount_cents == cents
    assert payment.scope == ("general" if data["pocket"] == "general" else "service")
    page = parent.get(response["Location"]).content.decode()
    assert f'data-client-secret="{payment.client_secret}"' in page
    assert 'data-publishable-key="pk_test_marelle"' in page
    assert f'<script src="{settings.STRIPE_JS_URL}">' in page
    assert '<div id="card-element"' in page  # where payments.js mounts Stripe's Card Element
    return_url = f"{settings.PUBLIC_BASE_URL}/porte-monnaie/recharger/{payment.pk}/"
    assert f'data-return-url="{return_url}"' in page
    assert "<noscript>" in page and "nécessite JavaScript" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"preset": "other", "other_amount": "4,99", "pocket": "general"}, "entre 5,00"),
        ({"preset": "other", "other_amount": "500,01", "pocket": "general"}, "entre 5,00"),
        ({"preset": "other", "other_amount": "beaucoup", "pocket": "general"}, "en euros"),
        ({"preset": "other", "other_amount": "", "pocket": "general"}, "Choisissez un montant"),
        ({"pocket": "general"}, "Choisissez un montant"),
        ({"preset": "123", "pocket": "general"}, "Sélectionnez un choix valide"),
        ({"preset": "2000", "pocket": "commune-b:7"}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_choices_are_explained_and_create_nothing(parent, cantine, data, message):
    response = parent.post(TOP_UP_URL, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="error-summary"' in page and message in page
    assert not Payment.objects.exists()


def test_a_service_unpublished_meanwhile_is_refused_on_the_form(parent, cantine):
    cantine.is_active = False
    cantine.save()

    response = parent.post(TOP_UP_URL, {"preset": "2000", "pocket": "commune-a:7"})

    assert response.status_code == 200
    assert not Payment.objects.exists()


def test_without_stripe_the_page_says_card_payment_is_unavailable(parent, settings):
    settings.STRIPE_PUBLISHABLE_KEY = ""

    page = parent.get(TOP_UP_URL).content.decode()

    assert "n’est pas disponible pour le moment" in page
    assert '<form method="post"' not in page.split("<main", 1)[1]


def _start(parent, data=None) -> Payment:
    parent.post(TOP_UP_URL, data or {"preset": "5000", "pocket": "general"})
    return Payment.objects.get()


def test_the_return_page_says_pending_until_stripe_confirms(parent, browser):
    payment = _start(parent)
    browser.pay(payment.provider_ref, CARD_OK)  # paid, but no webhook yet

    page = parent.get(f"/porte-monnaie/recharger/{payment.pk}/?redirect_status=succeeded")

    text = page.content.decode()
    assert "en cours de confirmation" in text
    assert f'href="/porte-monnaie/recharger/{payment.pk}/">Actualiser' in text
    assert "est crédité" not in text


def test_the_return_page_shows_the_credit_once_confirmed(parent, browser, post_webhook):
    payment = _start(parent)
    browser.pay(payment.provider_ref, CARD_OK)
    body = event_for(browser.intent(payment.provider_ref), "payment_intent.succeeded")
    post_webhook(body, sign(body))

    page = parent.get(f"/porte-monnaie/recharger/{payment.pk}/").content.decode()

    assert "Votre porte-monnaie est crédité de 50,00\u00a0€" in page
    assert "Tous les services" in page
    # Paid: the payment step now only redirects to this page.
    response = parent.get(f"/porte-monnaie/recharger/{payment.pk}/paiement/")
    assert response["Location"] == f"/porte-monnaie/recharger/{payment.pk}/"


def test_a_failed_top_up_offers_to_try_again_with_the_same_pocket(
    parent, cantine, post_webhook, browser
):
    payment = _start(parent, {"preset": "2000", "pocket": "commune-a:7"})
    body = event_for(browser.intent(payment.provider_ref), "payment_intent.payment_failed")
    post_webhook(body, sign(body))

    page = parent.get(f"/porte-monnaie/recharger/{payment.pk}/").content.decode()

    assert "Paiement refusé par votre banque : aucun montant n’a été crédité." in page
    assert 'href="/porte-monnaie/recharger/?commune=commune-a&amp;service=7">Réessayer' in page


def test_another_familys_top_up_pages_are_not_found(parent, client):
    payment = _start(parent)
    client.force_login(UserFactory())

    for url in (
        f"/porte-monnaie/recharger/{payment.pk}/",
        f"/porte-monnaie/recharger/{payment.pk}/paiement/",
    ):
        assert client.get(url).status_code == 404


def test_the_top_up_pages_need_a_login(client):
    response = client.get(TOP_UP_URL)

    assert response.status_code == 302
    assert "/compte/acces/" in response["Location"]


def test_the_wallet_page_links_to_the_top_up(parent):
    page = parent.get("/porte-monnaie/").content.decode()

    assert f'href="{TOP_UP_URL}"' in page
