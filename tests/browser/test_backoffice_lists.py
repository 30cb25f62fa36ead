"""The kitchen lists in a real Chromium, as an agent of commune A on a phone and a desktop: the
day, the week, the printable page and the month forecast pass axe at 390 and 1280 px, and the
page never scrolls sideways on a phone (a wide table scrolls inside its own captioned box)."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import expect

from shared_apps.families.models import Child
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


def _no_sideways_scroll(page):
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    page.set_viewport_size({"width": 1280, "height": 800})


def test_agent_reads_the_kitchen_lists_on_a_phone_and_a_desktop(
    clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    with in_commune(commune_a):
        MealVariant.objects.create(product=canteen, name="Sans viande")
        pai_meal = MealVariant.objects.create(product=canteen, name="Panier repas PAI")
    parent = make_family(commune_a, in_commune, canteen.service, children=3, funds_cents=10_000)
    Child.objects.filter(pk=parent.kids[0].pk).update(
        notes="PAI arachide : panier repas fourni par la famille, trousse d’urgence au bureau."
    )
    Child.objects.filter(pk=parent.kids[1].pk).update(notes="Allergie aux œufs.")
    Child.objects.filter(pk=parent.kids[2].pk).update(
        first_name="Marie-Amélie-Constance", school_class="CE2/CM1 double niveau"
    )
    for kids, variant in ((parent.kids[:1], pai_meal), (parent.kids[1:], None)):
        body = {
            "product_id": canteen.pk,
            "child_ids": [k.pk for k in kids],
            "dates": ["2026-12-07", "2026-12-08", "2026-12-10"],
        }
        if variant:
            body["variant_id"] = variant.pk
        assert (
            parent.api.post("/c/commune-a/api/v1/cart/items", body, format="json").status_code
            == 201
        )
    assert (
        parent.api.post(
            "/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"}
        ).status_code
        == 201
    )
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    sign_in(agent)

    page.goto("/c/commune-a/gestion/effectifs/?date=2026-12-07")
    expect(page.get_by_role("heading", level=1)).to_have_text("Effectifs du lundi 7 décembre 2026")
    expect(page.locator("main")).to_contain_text("3 places réservées")
    expect(page.locator("main")).to_contain_text("PAI / allergie")
    expect(page.locator("main")).to_contain_text("À vérifier : repas standard")
    visit.check(page, "effectifs-jour")
    _no_sideways_scroll(page)

    page.get_by_label("Affichage").select_option("semaine")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("semaine du 7 décembre")
    expect(page.locator("main")).to_contain_text("9 places réservées")
    visit.check(page, "effectifs-semaine")
    _no_sideways_scroll(page)

    page.get_by_role("link", name="Version imprimable").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Effectifs de la semaine")
    expect(page.get_by_role("button", name="Imprimer")).to_be_visible()
    visit.check(page, "effectifs-imprimable")
    page.emulate_media(media="print")
    visit.shot(page, "effectifs-impression")
    page.emulate_media(media="screen")
    page.go_back()

    page.get_by_role("link", name="Prévisions du mois").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prévisions de décembre 2026")
    expect(page.locator("main")).to_contain_text("Total du mois")
    visit.check(page, "previsions")
    _no_sideways_scroll(page)

    page.goto("/c/commune-a/gestion/effectifs/?date=demain")
    expect(page.locator(".error-summary")).to_contain_text("Date attendue au format AAAA-MM-JJ")
    visit.check(page, "effectifs-erreur")
    assert page.js_errors == []
