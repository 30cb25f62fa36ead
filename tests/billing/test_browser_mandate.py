"""In a real Chromium (Playwright, as tests/browser): a parent sets up a SEPA mandate with the
IBAN against localstripe's Stripe.js (confirmSepaDebitSetup), our server records it from
Stripe, then finds its invoice and downloads it. Axe at both sizes, screenshots under
var/screenshots/."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import expect

from tenant_apps.billing.models import Mandate, MandateStatus
from tenant_apps.billing.services.invoicing import build_invoices
from tests.billing.conftest import IBAN_OK
from tests.billing.invoicing import DECEMBER, JANUARY_2ND, book_december
from tests.browser.conftest import CHROMIUM, sync_playwright
from tests.fixtures.bookings import make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        sync_playwright is None or CHROMIUM is None, reason="no Playwright or no Chromium"
    ),
]


def test_a_parent_signs_a_mandate_then_downloads_the_invoice(
    page, visit, sign_in, stripe_offline, commune_a, in_commune, canteen
):
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
    assert not page.js_errors

    book_december(commune_a, in_commune, canteen, parent)
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        invoice = build_invoices(commune=commune_a, month=DECEMBER).invoices[0]
    page.goto("/c/commune-a/factures/")
    expect(page.get_by_text(f"Facture n° {invoice.number}")).to_be_visible()
    visit.check(page, "factures")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Télécharger (PDF) la facture {invoice.number}").click()
    assert download.value.suggested_filename == f"facture-{invoice.number}.pdf"
