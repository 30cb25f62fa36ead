"""The demo configures the guide's services through the catalogue, and a second run changes
nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shared_apps.common.money import format_euros
from shared_apps.directory.models import PublishedService
from shared_apps.directory.selectors import service_label
from tenant_apps.catalog.models import DocumentType, Product, Service
from tenants.demo import DEMO_COMMUNES, ensure_demo_service, load_demo
from tenants.models import Commune

pytestmark = pytest.mark.django_db

SAINT_MARCEL = DEMO_COMMUNES[0]
CANTINE_SPEC = SAINT_MARCEL.services[0]
WRITES = ("INSERT", "UPDATE", "DELETE")


def _writes(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if q["sql"].lstrip().startswith(WRITES)]


def test_the_demo_cantine_is_configured_and_published(commune_a, in_commune):
    with in_commune(commune_a):
        service = ensure_demo_service(CANTINE_SPEC)
        (product,) = Product.objects.filter(service=service)
        variants = [v.name for v in product.variants.order_by("pk")]
        documents = {d.label: d.required for d in DocumentType.objects.filter(service=service)}

    assert service.payment_methods == ["card", "wallet", "direct_debit"]
    assert (product.name, product.price_cents) == ("Réservation repas cantine", 380)
    assert variants == ["Standard", "Sans viande", "PAI (panier repas)"]
    assert documents == {
        "Justificatif de domicile": True,
        "Attestation d’assurance": True,
        "Attestation de quotient familial CAF": False,
    }
    assert PublishedService.objects.get(commune=commune_a).service_id == service.pk


def test_a_second_run_writes_nothing(commune_a, in_commune):
    with in_commune(commune_a):
        ensure_demo_service(CANTINE_SPEC)
        with CaptureQueriesContext(connection) as second:
            ensure_demo_service(CANTINE_SPEC)
    assert _writes(second) == []


def test_a_service_from_an_older_demo_is_brought_up_to_date(commune_a, in_commune):
    with in_commune(commune_a):
        # What the first demo made: the service only, unpublished, card and wallet.
        old = Service.objects.create(kind="cantine", name="Cantine")
        ensure_demo_service(CANTINE_SPEC)
        old.refresh_from_db()
        assert Service.objects.count() == 1
        assert old.payment_methods == ["card", "wallet", "direct_debit"]
        assert Product.objects.get().price_cents == 380
        assert DocumentType.objects.count() == 3
    assert PublishedService.objects.filter(commune=commune_a, service_id=old.pk).exists()


def test_demo_service_names_read_well_in_the_wallet():
    labels = {
        service_label(service.name, commune.name)
        for commune in DEMO_COMMUNES
        for service in commune.services
    }
    assert labels == {
        "Cantine de Saint-Marcel-en-Dombes",
        "Garderie de Baneins",
        "Cantine du Puy-en-Velay",
        "Garderie périscolaire du Puy-en-Velay",
    }


def test_the_whole_demo_loads_then_changes_nothing_on_a_second_run(client, in_commune):
    load_demo()
    with CaptureQueriesContext(connection) as second:
        load_demo()
    assert _writes(second) == []

    listed = {
        (listing.commune.slug, listing.name)
        for listing in PublishedService.objects.select_related("commune")
    }
    assert {
        ("saint-marcel-en-dombes", "Cantine"),
        ("baneins", "Garderie"),
        ("le-puy-en-velay", "Cantine"),
        ("le-puy-en-velay", "Garderie périscolaire"),
    } <= listed
    with in_commune(Commune.objects.get(slug="baneins")):
        prices = dict(Product.objects.values_list("name", "price_cents"))
    assert prices == {"Garderie matin": 150, "Garderie soir": 200}
    page = client.get("/c/le-puy-en-velay/").content.decode()
    assert all(format_euros(cents) in page for cents in (410, 120, 180))
