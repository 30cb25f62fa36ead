"""A manager of commune A signs in and lands on the dashboard, then manages the team."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import expect

from shared_apps.families.services import add_child, get_or_create_family
from tenant_apps.catalog.models import MealVariant, Service
from tenant_apps.enrollments.models import AccessRequest
from tenants.models import Membership
from tests.factories import UserFactory
from tests.fixtures.bookings import NOW, make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def test_manager_lands_on_the_dashboard_and_invites_an_agent(
    clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    with in_commune(commune_a):
        Service.objects.filter(pk=canteen.service.pk).update(low_balance_threshold_cents=1000)
        MealVariant.objects.create(product=canteen, name="PAI")
        MealVariant.objects.create(product=canteen, name="Standard")
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": ["2026-12-07"]},
    )
    parent.api.post("/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"})
    newcomer = UserFactory(last_name="Nouvelle")
    add_child(
        user=newcomer,
        data={
            "last_name": "Nouvelle",
            "first_name": "Zoé",
            "birth_date": "2018-05-04",
            "relation": "mother",
            "school_class": "CE1",
        },
    )
    with in_commune(commune_a):
        AccessRequest.objects.create(
            service=canteen.service,
            family_id=get_or_create_family(newcomer).pk,
            submitted_by=newcomer,
            status="submitted",
        )
    manager = UserFactory(first_name="Régine", last_name="Responsable")
    Membership.objects.create(user=manager, commune=commune_a, role="manager")

    sign_in(manager)

    page.wait_for_url("**/c/commune-a/gestion/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")
    expect(page.locator("#demandes-en-attente")).to_have_text("1")
    expect(page.locator("#soldes-bas")).to_have_text("1")
    visit.check(page, "tableau-de-bord")

    page.get_by_role("link", name="Équipe").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Équipe")
    visit.check(page, "equipe")
    page.get_by_label("Adresse e-mail").fill("nouvel.agent@exemple.fr")
    page.get_by_role("button", name="Envoyer l’invitation").click()
    page.wait_for_load_state("load")
    expect(page.locator("main")).to_contain_text("Invitation envoyée à nouvel.agent@exemple.fr")
    visit.check(page, "equipe-invitation-envoyee")
    assert page.js_errors == []
