"""The commune's page for families: services, products and prices, "Demander l’accès"."""

from __future__ import annotations

import pytest

from shared_apps.common.money import format_euros
from tenant_apps.catalog import services
from tenant_apps.catalog.forms import document_type_changes, product_changes, service_changes

pytestmark = pytest.mark.django_db


def test_the_commune_page_shows_products_prices_variants_and_documents(
    client, cantine_a, meal_a, address_proof_a
):
    page = client.get("/c/commune-a/").content.decode()

    assert "Réservation repas cantine" in page
    assert f'<span class="price">{format_euros(380)}</span>' in page
    assert "Au choix : Standard, Sans viande, PAI" in page
    assert "Justificatif de domicile" in page
    assert f'href="/c/commune-a/services/{cantine_a.pk}/demande/"' in page
    assert "Demander l’accès" in page


def test_inactive_services_and_products_are_not_shown(
    client, cantine_a, meal_a, commune_a, in_commune, make_service
):
    make_service(commune_a, name="Centre fermé", kind="centre_loisirs", is_active=False)
    with in_commune(commune_a):
        services.save_product(
            commune=commune_a,
            service=cantine_a,
            changes=product_changes(
                {"name": "Goûter retiré", "price_cents": 90, "is_active": False}, product=None
            ),
        )

    page = client.get("/c/commune-a/").content.decode()

    assert "Cantine" in page
    assert "Centre fermé" not in page and "Goûter retiré" not in page


def test_staff_of_the_commune_get_a_link_to_the_back_office(client, agent_a, cantine_a):
    client.force_login(agent_a)
    assert 'href="/c/commune-a/gestion/"' in client.get("/c/commune-a/").content.decode()


@pytest.mark.parametrize("who", ["anonymous", "parent", "manager_b"])
def test_others_get_no_back_office_link(client, request, who, cantine_a):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    assert "/gestion/" not in client.get("/c/commune-a/").content.decode()


def test_the_page_needs_the_same_number_of_queries_for_one_or_five_services(
    client, commune_a, in_commune, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n):
        with in_commune(commune_a):
            service = services.save_service(
                commune=commune_a,
                changes=service_changes(
                    {"kind": "cantine", "name": f"Service {n}", "payment_methods": ["card"]},
                    partial=False,
                ),
            )
            services.save_product(
                commune=commune_a,
                service=service,
                changes=product_changes(
                    {"name": "Repas", "price_cents": 380, "variants": ["A"]}, product=None
                ),
            )
            services.save_document_type(
                commune=commune_a,
                service=service,
                changes=document_type_changes({"label": "Assurance"}, document_type=None),
            )

    add(0)
    client.get("/c/commune-a/")
    with CaptureQueriesContext(connection) as one:
        client.get("/c/commune-a/")
    for n in range(1, 5):
        add(n)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get("/c/commune-a/").content.decode().count("Demander l’accès<") == 5
