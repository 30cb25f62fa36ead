"""In Chromium: a manager issues a credit note from Gestion → Factures (an error shown, then
issued), and the parent finds it on "Mes factures" and the statement page. Axe at both sizes,
screenshots under var/screenshots/."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import expect

from tenant_apps.billing.services.invoicing import build_invoices
from tenants.models import Role
from tests.billing.invoicing import DECEMBER, JANUARY_2ND, book_december
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures.bookings import make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_manager_issues_a_credit_note_the_family_sees_it(
    page, new_page, visit, sign_in, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    book_december(commune_a, in_commune, canteen, parent)
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        invoice = build_invoices(commune=commune_a, month=DECEMBER).invoices[0]
    manager = UserFactory()
    MembershipFactory(user=manager, commune=commune_a, role=Role.MANAGER)

    sign_in(manager)
    page.goto("/c/commune-a/gestion/")
    page.get_by_role("link", name="Factures", exact=True).click()
    page.get_by_label("Mois (AAAA-MM)").fill("2026-12")
    page.get_by_role("button", name="Afficher").click()
    page.get_by_role("link", name=f"Avoirs de la facture {invoice.number}").click()
    visit.check(page, "avoir-formulaire")
    page.get_by_label("Montant en euros").fill("999")
    page.get_by_label("Motif").fill("Repas non servi")
    page.get_by_role("button", name="Émettre l’avoir").click()
    expect(page.locator("#amount-erreur")).to_contain_text("Au plus")
    visit.check(page, "avoir-erreur")
    page.get_by_label("Montant en euros").fill("3,80")
    page.get_by_role("button", name="Émettre l’avoir").click()
    expect(page.locator(".message-success")).to_contain_text("Avoir AV-")
    visit.check(page, "avoir-emis")

    family = new_page()
    sign_in(parent, on=family)
    family.goto("/c/commune-a/factures/")
    expect(family.get_by_text("Avoir n° AV-", exact=False).first).to_be_visible()
    visit.check(family, "factures-avec-avoir")
    family.goto("/porte-monnaie/releve/?du=2026-13-01&au=2026-12-31")
    expect(family.locator("#du-erreur")).to_be_visible()
    visit.check(family, "releve-erreur")
    assert not page.js_errors and not family.js_errors
