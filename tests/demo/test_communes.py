"""The demo configures the guide's services through the catalogue, and a second run changes
nothing."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from demo.communes import DEMO_COMMUNES, ensure_demo_service, load_demo
from shared_apps.common.money import format_euros
from shared_apps.directory.models import PublishedService
from shared_apps.directory.selectors import service_label
from tenant_apps.bookings import rules
from tenant_apps.catalog.models import Closure, DocumentType, Product, Service
from tenants.calendar import commune_calendar
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


def tenant_context_of(slug: str):
    return tenant_context(Commune.objects.get(slug=slug))


def _product_rules(slug: str, service_name: str, product_name: str) -> dict:
    with tenant_context_of(slug):
        product = Product.objects.select_related("service").get(
            service__name=service_name, name=product_name
        )
    return {
        "weekdays": product.weekdays,
        "period": product.opening_period,
        "booking": rules.DeadlineRule.for_booking(product).describe(),
        "cancel": rules.DeadlineRule.for_cancellation(product).describe(),
        "late": product.late_cancellation_refund_percent,
        "capacity": product.daily_capacity,
        "qf": [(b["max_qf"], b["price_cents"]) for b in product.qf_brackets],
        "siblings": product.sibling_reduction_percent,
    }


def test_the_demo_sets_realistic_booking_rules():
    load_demo()
    school_days = {"weekdays": [0, 1, 3, 4], "period": "school"}

    assert _product_rules("saint-marcel-en-dombes", "Cantine", "Réservation repas cantine") == {
        **school_days,
        "booking": "le jeudi de la semaine précédente avant 12 h 00",
        "cancel": "2 jours ouvrés avant, avant 09 h 00",
        "late": 0,
        "capacity": None,
        "qf": [(600, 120), (1000, 260)],
        "siblings": 10,
    }
    with tenant_context_of("saint-marcel-en-dombes"):
        assert Service.objects.get(name="Cantine").low_balance_threshold_cents == 1000
    for name, deadline in (("Garderie matin", "07 h 00"), ("Garderie soir", "12 h 00")):
        assert _product_rules("baneins", "Garderie", name) == {
            **school_days,
            "booking": f"le jour même avant {deadline}",
            "cancel": f"le jour même avant {deadline}",
            "late": None,
            "capacity": 20,
            "qf": [],
            "siblings": 0,
        }
    assert _product_rules("le-puy-en-velay", "Cantine", "Réservation repas cantine") == {
        **school_days,
        "booking": "2 jours ouvrés avant, avant 12 h 00",
        "cancel": "2 jours ouvrés avant, avant 12 h 00",
        "late": 0,
        "capacity": 150,
        "qf": [],
        "siblings": 0,
    }
    for name in ("Accueil du matin", "Accueil du soir"):
        assert _product_rules("le-puy-en-velay", "Garderie périscolaire", name) == {
            **school_days,
            "booking": "1 jour ouvré avant, avant 18 h 00",
            "cancel": "1 jour ouvré avant, avant 18 h 00",
            "late": 50,
            "capacity": None,
            "qf": [],
            "siblings": 0,
        }


def _upcoming_closures() -> dict[tuple[str, str], list[Closure]]:
    found = {}
    for spec in DEMO_COMMUNES:
        commune = Commune.objects.get(slug=spec.slug)
        with tenant_context_of(spec.slug):
            for service in Service.objects.prefetch_related("products"):
                closures = list(service.closures.filter(date__gte=timezone.localdate()))
                for closure in closures:
                    # Otherwise open: a school day the service's products would be open.
                    assert any(
                        rules.is_open(
                            closure.date,
                            weekdays=product.weekdays,
                            opening_period=product.opening_period,
                            calendar=commune_calendar(commune),
                            closures=set(),
                        )
                        for product in service.products.all()
                    ), (spec.slug, service.name, closure.date)
                found[(spec.slug, service.name)] = closures
    return found


def test_each_demo_service_has_one_closure_to_come_on_a_day_it_would_be_open():
    load_demo()
    closures = _upcoming_closures()
    assert set(closures) == {
        ("saint-marcel-en-dombes", "Cantine"),
        ("baneins", "Garderie"),
        ("le-puy-en-velay", "Cantine"),
        ("le-puy-en-velay", "Garderie périscolaire"),
    }
    assert all(len(found) == 1 for found in closures.values())
    (saint_marcel,) = closures[("saint-marcel-en-dombes", "Cantine")]
    assert saint_marcel.reason.startswith("Journée pédagogique")
    assert saint_marcel.date > timezone.localdate() + datetime.timedelta(weeks=4)


def test_a_later_run_adds_a_closure_only_once_the_last_one_is_past():
    load_demo()
    first = {key: found[0].date for key, found in _upcoming_closures().items()}
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7), tick=False):
        load_demo()
        assert {key: found[0].date for key, found in _upcoming_closures().items()} == first
    with time_machine.travel(timezone.now() + datetime.timedelta(weeks=30), tick=False):
        load_demo()
        later = _upcoming_closures()
    assert all(len(found) == 1 for found in later.values())
    assert all(later[key][0].date > first[key] for key in first)
