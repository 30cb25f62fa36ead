"""A manager of commune A signs in and lands on the dashboard, then manages the team."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import expect

from shared_apps.families.services import add_child, get_or_create_family
from tenant_apps.bookings.models import Order, Reservation
from tenant_apps.catalog.models import MealVariant, Service
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


def test_manager_lands_on_the_dashboard_and_invites_an_agent(
    clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    with in_commune(commune_a):
        Service.objects.filter(pk=canteen.service.pk).update(low_balance_threshold_cents=1000)
        pai = MealVariant.objects.create(product=canteen, name="PAI")
        standard = MealVariant.objects.create(product=canteen, name="Standard")
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    with in_commune(commune_a):  # today's places, one PAI meal (booked earlier by the family)
        order = Order.objects.create(
            family_id=parent.family.pk,
            placed_by_id=parent.pk,
            status="paid",
            payment_method="wallet",
            amount_cents=760,
        )
        for kid, variant in zip(parent.kids, (pai, standard), strict=True):
            Reservation.objects.create(
                order=order,
                family_id=parent.family.pk,
                child_id=kid.pk,
                product=canteen,
                variant=variant,
                date=NOW.date(),
                price_cents=380,
                paid_by="wallet",
            )
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

    sign_in(manager, typed=True)  # where a manager lands is part of this journey

    page.wait_for_url("**/c/commune-a/gestion/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")
    expect(page.locator("#demandes-en-attente")).to_have_text("1")
    expect(page.locator("#soldes-bas")).to_have_text("1")
    expect(page.locator("main")).to_contain_text("PAI : 1, Standard : 1")
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


def test_an_invited_agent_of_two_communes_joins_then_chooses_where_to_go(
    page, visit, sign_in, commune_a, commune_b, live_server
):
    """Staff of commune B invited to A: the link, the password step, accepting; signing in
    again then asks where to go."""
    from django.core import mail

    from tenant_apps.backoffice.services_staff import invite_staff

    manager = UserFactory(first_name="Régine", last_name="Responsable")
    Membership.objects.create(user=manager, commune=commune_a, role="manager")
    agent = UserFactory(email="agent.b@exemple.fr", first_name="Basile")
    Membership.objects.create(user=agent, commune=commune_b, role="agent")
    _, token = invite_staff(commune=commune_a, invited_by=manager, email=agent.email, role="agent")
    assert mail.outbox  # committed: sent at once
    link = f"/c/commune-a/equipe/invitation/{token}/"

    page.goto(link)
    page.wait_for_url("**/compte/acces/**")
    page.get_by_label("Adresse e-mail").fill(agent.email)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/compte/connexion/**")
    from tests.factories import PASSWORD

    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"**{link}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rejoindre l’équipe de Commune A")
    visit.check(page, "rejoindre")
    page.get_by_role("button", name="Accepter et rejoindre l’équipe").click()
    page.wait_for_url("**/c/commune-a/gestion/")
    expect(page.locator("main")).to_contain_text("Bienvenue dans l’équipe de Commune A")

    page.get_by_role("button", name="Se déconnecter").click()
    sign_in(agent, typed=True)
    page.wait_for_url("**/compte/espaces/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Où voulez-vous aller ?")
    visit.check(page, "ou-aller")
    page.get_by_role("link", name="Gestion de Commune B").click()
    page.wait_for_url("**/c/commune-b/gestion/")
    assert page.js_errors == []
