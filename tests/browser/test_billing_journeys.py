"""Post-paid services in a real Chromium (Playwright, the fixtures of tests/browser):

(0) a parent sets up a SEPA mandate with the IBAN against localstripe's Stripe.js
(confirmSepaDebitSetup), our server records it from Stripe, then downloads its invoice;
(a) a parent whose SEPA mandate is active (set up through the services) books two days, chooses
"Prélèvement" and sees them booked, "À facturer", nothing taken from the wallet;
(b) a parent whose December invoice's debit was rejected (built through the services: the
debit's failure is the provider's signed notification) pays it by card in the page — 4242 4242
4242 4242 through localstripe's stripe.js — and the invoice shows "Payée" once the signed
webhook has reached the live server; the ledger is balanced and the receivable settled.

Every page is checked with axe at both sizes (visit.check)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core.management import call_command
from playwright.sync_api import expect

from shared_apps.payments.models import Payment
from shared_apps.wallet.selectors import pockets_of
from shared_apps.wallet.services import receivable_balances
from tenant_apps.billing.models import Invoice, Mandate, MandateStatus
from tenant_apps.billing.services.invoicing import build_invoices
from tenant_apps.bookings.models import Order, Reservation
from tests.billing.invoicing import DECEMBER, JANUARY_2ND, book_december
from tests.browser.helpers import CARD_ELEMENT, CARD_OK, fill_card, reload_until
from tests.fixtures.billing import give_mandate, provider_says, start_collection
from tests.fixtures.bookings import NOW, make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

DAYS = ["2026-12-07", "2026-12-08"]


def test_a_parent_signs_a_mandate_then_downloads_the_invoice(
    stripe_offline, page, visit, sign_in, commune_a, in_commune, canteen
):
    from tests.billing.conftest import IBAN_OK

    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    sign_in(parent)
    page.goto("/c/commune-a/prelevement/")
    expect(page.get_by_text("Aucun mandat actif")).to_be_visible()
    visit.check(page, "prelevement-vide")
    page.get_by_role("button", name="Mettre en place le prélèvement").click()
    page.wait_for_url("**/prelevement/*/iban/")
    expect(page.locator("#sepa-form")).to_be_visible()
    visit.check(page, "iban")
    page.get_by_label("IBAN").fill(IBAN_OK)
    page.get_by_role("button", name="Signer le mandat").click()
    page.wait_for_url("**/c/commune-a/prelevement/")
    expect(page.get_by_text("compte se terminant par 2606")).to_be_visible()
    visit.check(page, "prelevement-actif")
    with in_commune(commune_a):
        assert Mandate.objects.get(family_id=parent.family.pk).status == MandateStatus.ACTIVE

    book_december(commune_a, in_commune, canteen, parent)
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        invoice = build_invoices(commune=commune_a, month=DECEMBER).invoices[0]
    page.goto("/c/commune-a/factures/")
    expect(page.get_by_text(f"Facture n° {invoice.number}")).to_be_visible()
    visit.check(page, "factures")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Télécharger (PDF) la facture {invoice.number}").click()
    assert download.value.suggested_filename == f"facture-{invoice.number}.pdf"
    assert page.js_errors == []


def _wallet(parent) -> int:
    return sum(p.balance_cents for p in pockets_of(parent.family.pk))


def test_a_parent_with_a_mandate_books_by_direct_debit(
    page, visit, sign_in, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1_000)
    give_mandate(commune_a, parent.family.pk, user=parent)
    with time_machine.travel(NOW, tick=True):
        sign_in(parent)
        page.goto(f"/c/commune-a/reserver/{canteen.pk}/")
        for day in DAYS:
            page.locator(f'input[name="dates"][value="{day}"]').check()
        page.locator('#booking-form button[type="submit"]').click()
        page.wait_for_url("**/c/commune-a/panier/")
        debit = page.get_by_role("radio", name=re.compile("Prélèvement"))
        expect(debit).to_be_visible()
        debit.check()
        visit.check(page, "panier-prelevement")
        page.get_by_role("button", name=re.compile(r"^Payer 7,60")).click()
        page.wait_for_url("**/c/commune-a/mes-reservations/")
        expect(page.locator(".message-success")).to_contain_text(
            "7,60\u00a0€ seront prélevés avec la facture du mois"
        )
        rows = page.locator("table.stack tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.locator(".badge", has_text="À facturer")).to_have_count(2)
        visit.check(page, "mes-reservations-a-facturer")
    with in_commune(commune_a):
        order = Order.objects.get(family_id=parent.family.pk)
        assert (order.status, order.amount_cents) == ("to_invoice", 760)
        assert (
            sorted(
                r.date.isoformat() for r in Reservation.objects.filter(order=order, status="booked")
            )
            == DAYS
        )
    assert _wallet(parent) == 1_000  # nothing taken: the month's invoice will ask for it
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 760
    assert page.js_errors == []


def test_a_parent_pays_a_rejected_invoice_by_card(
    stripe_webhook_to_live_server, page, visit, sign_in, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    book_december(commune_a, in_commune, canteen, parent)
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        build_invoices(commune=commune_a, month=DECEMBER)
        invoice = Invoice.objects.get(family_id=parent.family.pk)
    provider_says(
        start_collection(commune_a, invoice),
        "payment_intent.payment_failed",
        failure_code="insufficient_funds",
    )
    total = f"{invoice.total_cents // 100},{invoice.total_cents % 100:02d}\u00a0€"

    sign_in(parent)
    page.goto("/c/commune-a/factures/")
    card = page.locator("li.card", has_text=invoice.number)
    expect(card.locator(".badge")).to_have_text("Prélèvement rejeté")
    visit.check(page, "facture-rejetee")
    card.get_by_role("button", name=f"Payer par carte la facture {invoice.number}").click()

    page.wait_for_url(re.compile(r".*/factures/\d+/carte/\d+/$"))
    expect(page.locator("#payment-form")).to_be_visible()
    visit.check(page, "facture-carte", exclude=(CARD_ELEMENT,))
    fill_card(page, CARD_OK)
    page.get_by_role("button", name=f"Payer {total}").click()
    page.wait_for_url("**/c/commune-a/factures/")
    reload_until(page, "Payée")
    expect(page.locator("li.card", has_text=invoice.number).locator(".badge")).to_have_text("Payée")
    visit.check(page, "facture-payee")

    card_payment = Payment.objects.get(metadata__method="card")
    assert (card_payment.status, card_payment.amount_cents) == ("succeeded", invoice.total_cents)
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    call_command("verify_ledger")  # every transaction balanced, every balance its postings
    assert page.js_errors == []
