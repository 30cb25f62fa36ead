"""Gestion → Factures is reachable: a line of the menu, and the dashboard's direct-debit card."""

import pytest

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_menu_and_the_dashboard_lead_to_the_invoices(client, commune_a):
    agent = UserFactory()
    MembershipFactory(user=agent, commune=commune_a)
    client.force_login(agent)

    home = client.get("/c/commune-a/gestion/").content.decode()
    assert '<a href="/c/commune-a/gestion/factures/">Factures</a>' in home
    assert '<a href="/c/commune-a/gestion/factures/">Prélèvements à facturer</a>' in home
    page = client.get("/c/commune-a/gestion/factures/").content.decode()
    assert 'href="/c/commune-a/gestion/factures/" aria-current="page">Factures</a>' in page
