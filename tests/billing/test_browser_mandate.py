"""In a real Chromium (Playwright, as tests/browser): a parent sets up a SEPA mandate with the
IBAN against localstripe's Stripe.js (confirmSepaDebitSetup), our server records it from
Stripe, then finds its invoice and downloads it. Axe at both sizes, screenshots under
var/screenshots/ (tests/browser's Visit).

The browser runs on a thread of its own: tests/browser keeps a session-wide Playwright (and its
asyncio loop) open on the main thread, and a second sync Playwright cannot start beside it."""

from __future__ import annotations

import threading

import pytest
import time_machine

from tenant_apps.billing.models import Mandate, MandateStatus
from tenant_apps.billing.services.invoicing import build_invoices
from tests.billing.conftest import IBAN_OK
from tests.billing.invoicing import DECEMBER, JANUARY_2ND, book_december
from tests.browser.conftest import CHROMIUM, Visit, sync_playwright
from tests.factories import PASSWORD
from tests.fixtures.bookings import make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        sync_playwright is None or CHROMIUM is None, reason="no Playwright or no Chromium"
    ),
]


def _on_a_thread(job):
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = job()
        except BaseException as exc:  # re-raised on the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=180)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _browse(url: str, steps, test_name: str):
    """Open Chromium at 1280×800 (fr-FR), sign in is done by `steps(page, visit)`."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    def job():
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            )
            context = browser.new_context(
                viewport={"width": 1280, "height": 800},
                locale="fr-FR",
                timezone_id="Europe/Paris",
                base_url=url,
                accept_downloads=True,
            )
            context.set_default_timeout(10_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            try:
                return steps(page, Visit(Axe(), test_name), expect, errors)
            finally:
                context.close()
                browser.close()

    return _on_a_thread(job)


def _sign_in(page, user):
    page.goto("/compte/acces/")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/compte/connexion/**")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("load")


def test_a_parent_signs_a_mandate_then_downloads_the_invoice(
    live_server, settings, stripe_offline, commune_a, in_commune, canteen, request
):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None
    settings.AXES_ENABLED = False
    settings.PUBLIC_BASE_URL = live_server.url
    parent = make_family(commune_a, in_commune, canteen.service, children=1)

    def mandate_steps(page, visit, expect, errors):
        _sign_in(page, parent)
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
        assert not errors, errors

    _browse(live_server.url, mandate_steps, request.node.name)
    with in_commune(commune_a):
        assert Mandate.objects.get(family_id=parent.family.pk).status == MandateStatus.ACTIVE

    book_december(commune_a, in_commune, canteen, parent)
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        invoice = build_invoices(commune=commune_a, month=DECEMBER).invoices[0]

    def invoice_steps(page, visit, expect, errors):
        _sign_in(page, parent)
        page.goto("/c/commune-a/factures/")
        expect(page.get_by_text(f"Facture n° {invoice.number}")).to_be_visible()
        visit.step = 3
        visit.check(page, "factures")
        with page.expect_download() as download:
            page.get_by_role("link", name=f"Télécharger (PDF) la facture {invoice.number}").click()
        return download.value.suggested_filename

    filename = _browse(live_server.url, invoice_steps, request.node.name + "-factures")
    assert filename == f"facture-{invoice.number}.pdf"
