"""Journey 3, as an agent of commune A: the access-request queue, the day's headcount, and a
booking made on behalf of a family that forgot (paid from its wallet)."""

from __future__ import annotations

import re

import pytest
import time_machine
from playwright.sync_api import expect

from shared_apps.families.services import add_child, get_or_create_family, note_commune
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Reservation
from tenant_apps.enrollments.models import AccessRequest
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


def test_agent_queue_headcount_and_booking_on_behalf(
    clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {
            "product_id": canteen.pk,
            "child_ids": [k.pk for k in parent.kids],
            "dates": ["2026-12-07"],
        },
    )
    assert (
        parent.api.post(
            "/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"}
        ).status_code
        == 201
    )
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
    family = get_or_create_family(newcomer)
    note_commune(family_id=family.pk, commune=commune_a)
    with in_commune(commune_a):
        waiting = AccessRequest.objects.create(
            service=canteen.service, family_id=family.pk, submitted_by=newcomer, status="submitted"
        )
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    sign_in(agent)

    page.goto("/c/commune-a/gestion/")
    visit.check(page, "gestion")
    page.get_by_role("link", name=re.compile("Demandes d’accès")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes d’accès")
    visit.check(page, "demandes")
    page.get_by_role("link", name=f"Demande n° {waiting.pk}").click()
    expect(page.locator("main")).to_contain_text("Nouvelle")
    visit.check(page, "demande")

    page.goto("/c/commune-a/gestion/effectifs/?date=2026-12-07")
    expect(page.locator("main")).to_contain_text("2 places réservées")
    expect(page.locator("main")).to_contain_text("Enfant0")
    visit.check(page, "effectifs")

    page.goto("/c/commune-a/gestion/reserver-pour/")
    visit.check(page, "reserver-pour")
    page.get_by_label("Enfant").select_option(str(parent.kids[0].pk))
    page.get_by_label("Prestation").select_option(str(canteen.pk))
    page.get_by_label("Jour(s)").fill("2026-12-04")  # past the parents' deadline
    page.get_by_label("Accord de la famille").fill("Mme Martin, par téléphone, 8 h 10")
    page.get_by_role("button", name="Réserver et payer").click()
    page.wait_for_load_state("load")
    expect(page.locator("main")).to_contain_text(
        "Réservé et payé avec le porte-monnaie de la famille : 3,80\u00a0€"
    )
    visit.check(page, "reserve-pour")

    with in_commune(commune_a):
        assert Reservation.objects.filter(date="2026-12-04", child_id=parent.kids[0].pk).exists()
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000 - 760 - 380
    assert page.js_errors == []
