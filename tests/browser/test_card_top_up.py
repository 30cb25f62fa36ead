"""Journey 2: "Recharger mon crédit" by card against localstripe. A declined card
(4000 0000 0000 0002) shows Stripe's French error and credits nothing; 4242 4242 4242 4242 then
pays on the same page, and the wallet is credited by the signed webhook localstripe sends to the
live server (as in the demo, config/demo_stripe.py)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from shared_apps.payments.models import Payment
from shared_apps.wallet.selectors import pockets_of
from tests.fixtures.bookings import make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

CARD_ELEMENT = "#card-element"  # localstripe's stand-in for Stripe's iframe: not ours to audit


def fill_card(page, number: str) -> None:
    fields = {"number": number, "exp_month": "12", "exp_year": "34", "cvc": "123"}
    for name, value in fields.items():
        page.locator(f'{CARD_ELEMENT} input[placeholder="{name}"]').fill(value)


def reload_until(page, text: str, timeout: float = 15.0) -> None:
    """The return page shows what our database knows: reload until the webhook has arrived."""
    deadline = time.monotonic() + timeout
    while text not in page.locator("main").inner_text():
        assert time.monotonic() < deadline, (
            f"still no {text!r}: {page.locator('main').inner_text()}"
        )
        time.sleep(0.2)
        page.reload()


def test_top_up_by_card_declined_then_paid_and_credited_by_the_webhook(
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

    fill_card(page, "4000000000000002")
    page.get_by_role("button", name="Payer 20,00\u00a0€").click()
    expect(page.locator("#payment-message")).to_have_text("Votre carte a été refusée.")
    expect(page.get_by_role("button", name="Payer 20,00\u00a0€")).to_be_enabled()
    visit.check(page, "carte-refusee", exclude=(CARD_ELEMENT,))
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 0

    fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Payer 20,00\u00a0€").click()
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
