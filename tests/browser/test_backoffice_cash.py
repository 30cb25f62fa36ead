"""The régie in a real browser, as a manager of commune A: a counter payment and its receipt,
the day's journal, closing the day, the accountant's exports (axe at 390 and 1280 px)."""

from __future__ import annotations

import re

import pytest
import time_machine
from playwright.sync_api import expect

from tenant_apps.backoffice.models import DayClosing
from tenants.models import Membership
from tests.factories import UserFactory
from tests.fixtures.bookings import NOW, make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def test_counter_payment_receipt_journal_and_closing(
    clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    manager = UserFactory(first_name="Marc", last_name="Régisseur")
    Membership.objects.create(user=manager, commune=commune_a, role="manager")
    sign_in(manager)

    page.goto("/c/commune-a/gestion/regie/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Régie : journal de caisse")
    expect(page.locator("main")).to_contain_text("Aucun versement enregistré ce jour-là.")
    visit.check(page, "journal-vide")

    page.get_by_role("link", name="Enregistrer un versement").click()
    page.get_by_label("Famille").select_option(str(parent.family.pk))
    page.get_by_label("Service").select_option(str(canteen.service.pk))
    page.get_by_label("Montant reçu (€)").fill("15,50")
    page.get_by_label("Chèque").check()
    page.get_by_label("Référence").fill("CHQ 0042")
    page.get_by_role("button", name="Enregistrer le versement").click()
    expect(page.locator("#recu")).to_contain_text("Versement enregistré : reçu n° R-2026-000001")
    visit.check(page, "versement-enregistre")
    receipt_link = page.get_by_role("link", name=re.compile("Imprimer le reçu n° R-2026-000001"))
    receipt = page.request.get(receipt_link.get_attribute("href"))
    assert receipt.status == 200 and receipt.headers["content-type"] == "application/pdf"

    page.get_by_role("navigation", name=re.compile("Gestion")).get_by_role(
        "link", name="Régie"
    ).click()
    main = page.locator("main")
    expect(main).to_contain_text("R-2026-000001")
    expect(main.locator("tfoot")).to_contain_text("15,50")
    visit.check(page, "journal")

    page.get_by_role("button", name=re.compile("Clôturer toute la régie")).click()
    expect(page.locator("#cloture-regie")).to_contain_text("Journée clôturée pour toute la régie")
    expect(page.get_by_role("button", name=re.compile("Clôturer"))).to_have_count(0)
    visit.check(page, "journal-cloture")
    with in_commune(commune_a):
        assert DayClosing.objects.get().total_cents == 1550

    page.get_by_role("link", name="Exports pour le comptable").click()
    page.get_by_role("button", name="Voir les totaux").click()
    expect(page.locator("main table")).to_contain_text("15,50")
    visit.check(page, "exports")
    assert not page.js_errors
