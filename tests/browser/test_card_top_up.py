"""Journey 2: "Recharger mon crédit" by card against localstripe. A declined card
(4000 0000 0000 0002) shows Stripe's French error and credits nothing; a 3-D Secure card
(4000 0025 0000 3155) then pays on the same page once the parent completes the authentication
(localstripe's pop-up, where the bank's page would be), and the wallet is credited by the signed
webhook localstripe sends to the live server (as in the demo, config/demo_stripe.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from shared_apps.payments.models import Payment
from shared_apps.wallet.selectors import pockets_of
from tests.browser.helpers import CARD_3DS, CARD_DECLINED, CARD_ELEMENT, fill_card, reload_until
from tests.fixtures.bookings import make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_top_up_by_card_declined_then_3d_secure_and_credited_by_the_webhook(
    page, visit, sign_in, stripe_webhook_to_live_server, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service)
    sign_in(parent)

    page.goto("/porte-monnaie/")
    visit.check(page, "porte-monnaie")
    page.get_by_role("link", name="Recharger mon crédit").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recharger mon crédit")
    visit.check(page, "recharger")
    page.get_by_label("20,00\u00a0€").check()
    page.get_by_label("Crédit à recharger").select_option("general")
    page.get_by_role("button", name="Continuer vers le paiement").click()

    page.wait_for_url("**/porte-monnaie/recharger/*/paiement/")
    expect(page.locator("#payment-form")).to_be_visible()
    visit.check(page, "carte", exclude=(CARD_ELEMENT,))

    fill_card(page, CARD_DECLINED)
    page.get_by_role("button", name="Payer 20,00\u00a0€").click()
    expect(page.locator("#payment-message")).to_have_text("Votre carte a été refusée.")
    expect(page.get_by_role("button", name="Payer 20,00\u00a0€")).to_be_enabled()
    visit.check(page, "carte-refusee", exclude=(CARD_ELEMENT,))
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 0

    fill_card(page, CARD_3DS)
    page.get_by_role("button", name="Payer 20,00\u00a0€").click()
    complete = page.get_by_role("button", name="Complete authentication")
    expect(complete).to_be_visible()
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 0  # not before 3-D Secure
    complete.click()
    page.wait_for_url("**/porte-monnaie/recharger/*/")
    reload_until(page, "Rechargement réussi")
    expect(page.locator(".message-success")).to_contain_text(
        "Votre porte-monnaie est crédité de 20,00\u00a0€"
    )
    visit.check(page, "recharge-reussie")

    assert Payment.objects.get().status == "succeeded"
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 2000
    page.get_by_role("link", name="Voir mon porte-monnaie").click()
    expect(page.locator("main")).to_contain_text("20,00\u00a0€")
    visit.shot(page, "porte-monnaie-credite")
    assert page.js_errors == []
