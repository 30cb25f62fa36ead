"""GET /c/<slug>/api/v1/services: what a family's app reads, for one commune only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenant_apps.catalog import services
from tenant_apps.catalog.forms import document_type_changes, product_changes, service_changes

pytestmark = pytest.mark.django_db

URL = "/c/commune-a/api/v1/services"


def _full_service(commune, in_commune, name: str):
    with in_commune(commune):
        service = services.save_service(
            commune=commune,
            changes=service_changes(
                {"kind": "cantine", "name": name, "payment_methods": ["card", "wallet"]},
                partial=False,
            ),
        )
        for n in range(2):
            services.save_product(
                commune=commune,
                service=service,
                changes=product_changes(
                    {"name": f"Produit {n}", "price_cents": 380, "variants": ["Standard", "PAI"]},
                    product=None,
                ),
            )
        for label in ("Justificatif de domicile", "Attestation d’assurance"):
            services.save_document_type(
                commune=commune,
                service=service,
                changes=document_type_changes({"label": label}, document_type=None),
            )
    return service


def test_services_lists_active_services_with_products_documents_and_payment_methods(
    auth_api, cantine_a, meal_a, address_proof_a, commune_a, in_commune, make_service
):
    make_service(commune_a, name="Ancienne garderie", kind="garderie", is_active=False)
    with in_commune(commune_a):
        services.save_product(
            commune=commune_a,
            service=cantine_a,
            changes=product_changes(
                {"name": "Goûter", "price_cents": 90, "is_active": False}, product=None
            ),
        )
        services.save_document_type(
            commune=commune_a,
            service=cantine_a,
            changes=document_type_changes(
                {"label": "Quotient familial", "required": False, "accepted_formats": ["pdf"]},
                document_type=None,
            ),
        )

    response = auth_api.get(URL)

    assert response.status_code == 200
    (service,) = response.json()
    assert service["id"] == cantine_a.pk
    assert (service["kind"], service["name"]) == ("cantine", "Cantine")
    assert service["payment_methods"] == ["card", "wallet", "direct_debit"]
    assert service["rules"] == {}
    (product,) = service["products"]
    assert product["id"] == meal_a.pk
    assert (product["name"], product["price_cents"]) == ("Réservation repas cantine", 380)
    assert [v["name"] for v in product["variants"]] == ["Standard", "Sans viande", "PAI"]
    assert service["required_documents"] == [
        {
            "code": "justificatif-de-domicile",
            "label": "Justificatif de domicile",
            "help_text": "",
            "required": True,
            "accepted_formats": ["pdf", "jpeg", "png"],
        },
        {
            "code": "quotient-familial",
            "label": "Quotient familial",
            "help_text": "",
            "required": False,
            "accepted_formats": ["pdf"],
        },
    ]


def test_services_of_a_never_show_services_of_b(auth_api, cantine_a, commune_b, make_service):
    make_service(commune_b, name="Garderie de B", kind="garderie")

    names_in_a = [s["name"] for s in auth_api.get(URL).json()]
    names_in_b = [s["name"] for s in auth_api.get("/c/commune-b/api/v1/services").json()]

    assert names_in_a == ["Cantine"]
    assert names_in_b == ["Garderie de B"]


def test_services_need_an_authenticated_user(api, cantine_a):
    response = api.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_services_work_with_the_browser_session_too(client, user, cantine_a):
    client.force_login(user)
    assert client.get(URL).json()[0]["name"] == "Cantine"


def test_services_refuse_to_be_written(auth_api, cantine_a):
    response = auth_api.post(URL, {"name": "Piscine"})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_the_number_of_queries_does_not_grow_with_services(
    auth_api, commune_a, in_commune, django_assert_num_queries
):
    _full_service(commune_a, in_commune, "Service 0")
    auth_api.get(URL)  # the commune is now in the per-process cache
    with CaptureQueriesContext(connection) as one_service:
        assert len(auth_api.get(URL).json()) == 1

    for n in range(1, 5):
        _full_service(commune_a, in_commune, f"Service {n}")
    with django_assert_num_queries(len(one_service.captured_queries)):
        body = auth_api.get(URL).json()

    assert len(body) == 5
    assert all(len(s["products"]) == 2 and len(s["required_documents"]) == 2 for s in body)


def test_the_openapi_schema_documents_the_services_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = [p for p in schema["paths"] if p.endswith("/services")]
    assert paths, list(schema["paths"])
