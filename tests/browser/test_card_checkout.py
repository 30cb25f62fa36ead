"""Guide step 4, "Payer", when the wallet falls short: a week for two children (chosen with the
keyboard: "Semaine" then "Ajouter au panier"), 10 € in the wallet, "Payer le reste par carte".
A 3-D Secure card whose authentication fails takes nothing; 4242 4242 4242 4242 then pays the
rest in the page, and the order is paid once localstripe's signed webhook has reached the live
server. The money is checked where it lives: the ledger, the order, the reservations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shared_apps.payments.models import Payment
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Order, Reservation
from tests.browser.helpers import (
    CARD_3DS,
    CARD_ELEMENT,
    CARD_OK,
    fill_card,
    focus_by_tab,
    reload_until,
)
from tests.fixtures.bookings import make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

WEEK = ["2026-12-07", "2026-12-08", "2026-12-10", "2026-12-11"]  # Wednesday 9 is closed


def balance(parent) -> int:
    return sum(p.balance_cents for p in pockets_of(parent.family.pk))


def test_week_for_two_paid_by_the_wallet_then_the_rest_by_card_after_a_failed_3d_secure(
    stripe_on_test_clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=1000)
    sign_in(parent)

    # The week of 7 December for both children, with the keyboard: "Semaine" then the cart.
    page.goto(f"/c/commune-a/reserver/{canteen.pk}/")
    page.locator("body").focus()
    focus_by_tab(page, "button.week-select")
    assert "7 décembre" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    assert [
        box.get_attribute("value") for box in page.locator('input[name="dates"]:checked').all()
    ] == WEEK
    focus_by_tab(page, '#booking-form button[type="submit"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**/c/commune-a/panier/")

    # 8 meals at 3,80 € = 30,40 €; the wallet has 10 €: what it can pay and what is missing.
    short = page.locator(".wallet-short")
    expect(short).to_contain_text(
        "Votre porte-monnaie peut payer 10,00\u00a0€ de ce panier (30,40\u00a0€) : "
        "il manque 20,40\u00a0€."
    )
    visit.check(page, "panier-solde-insuffisant")
    short.get_by_role("button", name="Payer le reste par carte (20,40\u00a0€)").click()

    page.wait_for_url("**/panier/commande/*/carte/")
    expect(page.locator("main")).to_contain_text(
        "dont 10,00\u00a0€ déjà payés par votre porte-monnaie"
    )
    expect(page.locator(".card-due")).to_have_text("À payer par carte : 20,40\u00a0€")
    pay = page.get_by_role("button", name="Payer 20,40\u00a0€")
    expect(page.locator("#payment-form")).to_be_visible()
    visit.check(page, "carte", exclude=(CARD_ELEMENT,))
    assert balance(parent) == 0  # the wallet's 10 € are held by the order

    # 3-D Secure asked, and failed: an error in French, nothing taken, the button back.
    fill_card(page, CARD_3DS)
    pay.click()
    fail = page.get_by_role("button", name="Fail authentication")
    expect(fail).to_be_visible()
    visit.shot(page, "carte-3d-secure")
    fail.click()
    expect(page.locator("#payment-message")).to_have_text(
        "L’authentification de votre carte a échoué. Essayez à nouveau ou avec une autre carte."
    )
    expect(pay).to_be_enabled()
    visit.check(page, "carte-3d-secure-echouee", exclude=(CARD_ELEMENT,))
    with in_commune(commune_a):
        order = Order.objects.get()
        assert order.status == "awaiting_payment"
        assert (order.wallet_cents, order.card_cents) == (1000, 2040)
    assert Payment.objects.get().status != "succeeded"

    # 4242 4242 4242 4242 pays the rest; the order is paid when the webhook has arrived.
    fill_card(page, CARD_OK)
    pay.click()
    page.wait_for_url(re.compile(r".*/panier/commande/\d+/$"))
    reload_until(page, "Paiement reçu")
    expect(page.locator(".message-success")).to_have_text(
        "Paiement reçu : 30,40\u00a0€ (10,00\u00a0€ par le porte-monnaie, 20,40\u00a0€ par "
        "carte). Vos réservations sont confirmées."
    )
    visit.check(page, "commande-payee")

    payment = Payment.objects.get()
    assert (payment.status, payment.amount_cents) == ("succeeded", 2040)
    with in_commune(commune_a):
        order.refresh_from_db()
        assert order.status == "paid"
        booked = Reservation.objects.filter(order=order).exclude(status="cancelled")
        assert sorted({r.date.isoformat() for r in booked}) == WEEK
        assert booked.count() == 8
    assert balance(parent) == 0

    page.get_by_role("link", name="Mes réservations").last.click()
    expect(page.locator("a.cancel-cross")).to_have_count(8)
    assert page.js_errors == []
