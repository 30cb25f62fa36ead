"""The family file in a real Chromium, as an agent of commune A on a phone and a desk: search a
family, open its file, book a PAI meal on its behalf with the consent noted; then the parent
sees "Réservé par la mairie" and gives standing consent."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import expect

from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Reservation
from tenant_apps.catalog.models import MealVariant
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


def test_agent_searches_opens_the_file_and_books_on_behalf(
    clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    with in_commune(commune_a):
        MealVariant.objects.create(product=canteen, name="Standard")
        pai = MealVariant.objects.create(product=canteen, name="PAI (panier repas)")
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    for _ in range(2):
        make_family(commune_a, in_commune, canteen.service, children=1)
    agent = UserFactory(first_name="Agnès", last_name="Agent")
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    sign_in(agent)

    page.goto("/c/commune-a/gestion/")
    page.get_by_role("link", name="Familles", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Familles")
    page.get_by_label("Nom d’un responsable ou d’un enfant, ou adresse e-mail").fill(parent.email)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("main")).to_contain_text("1 famille pour")
    visit.check(page, "recherche")

    page.get_by_role("link", name=parent.get_full_name(), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(parent.get_full_name())
    expect(page.locator("main")).to_contain_text("Enfant1")
    expect(page.locator("main")).to_contain_text("Pas d’accord permanent")
    visit.check(page, "fiche")

    page.get_by_role("link", name="Réserver pour cette famille").click()
    page.get_by_label("Enfant").select_option(str(parent.kids[0].pk))
    page.get_by_label("Prestation").select_option(str(canteen.pk))
    page.get_by_label("Jour(s)").fill("07/12/2026")
    page.get_by_role("button", name="Réserver et payer").click()
    page.wait_for_load_state("load")
    expect(page.locator(".error-summary")).to_contain_text("Choisissez le repas")
    visit.check(page, "reserver-erreurs")
    page.get_by_label("Repas").select_option(str(pai.pk))
    page.get_by_label("Accord de la famille").fill("Mme Martin, par téléphone, 8 h 10")
    page.get_by_role("button", name="Réserver et payer").click()
    page.wait_for_load_state("load")
    expect(page.locator("main")).to_contain_text("Réservé et payé")
    expect(page.locator("#reservations")).to_contain_text("PAI (panier repas)")
    expect(page.locator("#reservations")).to_contain_text("Mairie (Agnès Agent)")
    visit.check(page, "fiche-apres-reservation")

    with in_commune(commune_a):
        assert Reservation.objects.get().variant_id == pai.pk
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000 - 380

    page.context.clear_cookies()
    sign_in(parent)
    page.goto("/c/commune-a/mes-reservations/")
    expect(page.locator("main")).to_contain_text("Réservé par la mairie")
    visit.check(page, "parent-mes-reservations")
    page.goto("/famille/accord-mairie/")
    page.get_by_role("button", name="Autoriser la mairie à réserver pour moi").click()
    page.wait_for_load_state("load")
    expect(page.locator("main")).to_contain_text("Accord donné")
    visit.check(page, "parent-accord")
    assert page.js_errors == []
