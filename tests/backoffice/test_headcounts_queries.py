"""The kitchen lists cost the same number of queries for a day of 3 children as for a day of
300 (children and reservations created in bulk: what is measured is the reading)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shared_apps.families.models import Child
from tenant_apps.bookings.models import Order, Reservation
from tenant_apps.catalog.models import MealVariant
from tenants.models import Membership, Role
from tests.factories import UserFactory
from tests.fixtures.bookings import make_family
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a"
SMALL, BIG = datetime.date(2026, 12, 7), datetime.date(2026, 12, 8)  # Monday, Tuesday
CLASSES = ["PS", "GS", "CP", "CE1", "CE2", "CM1", "CM2", ""]
NOTES = ["", "", "PAI arachide", "Allergie au lait", "Ne mange pas de porc"]


@pytest.fixture
def crowd(frozen, commune_a, in_commune, canteen):
    """3 children booked on SMALL, 300 on BIG, across classes, meal variants and notes."""
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    children = Child.objects.bulk_create(
        Child(
            family=parent.family,
            last_name=f"Nom{i:03d}",
            first_name=f"Prénom{i:03d}",
            birth_date=datetime.date(2016, 1, 1) + datetime.timedelta(days=i),
            school_class=CLASSES[i % len(CLASSES)],
            notes=NOTES[i % len(NOTES)],
        )
        for i in range(300)
    )
    with in_commune(commune_a):
        variants = [
            None,
            MealVariant.objects.create(product=canteen, name="Sans viande"),
            MealVariant.objects.create(product=canteen, name="Panier repas PAI"),
        ]
        order = Order.objects.create(
            family_id=parent.family.pk,
            placed_by_id=parent.pk,
            status="paid",
            payment_method="wallet",
            amount_cents=0,
        )

        def place(child, day, i):
            return Reservation(
                order=order,
                family_id=parent.family.pk,
                child_id=child.pk,
                product=canteen,
                variant=variants[i % 3],
                date=day,
                price_cents=0,
                paid_by="wallet",
            )

        Reservation.objects.bulk_create(
            [place(c, SMALL, i) for i, c in enumerate(children[:3])]
            + [place(c, BIG, i) for i, c in enumerate(children)]
        )
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role=Role.AGENT)
    return agent


def _queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200
    return len(context.captured_queries), response


@pytest.mark.parametrize(
    "path",
    [
        "gestion/effectifs/",
        "gestion/effectifs/imprimer/",
        "gestion/effectifs/effectifs.pdf",
        "gestion/effectifs/effectifs.xlsx",
        "gestion/effectifs/effectifs.csv",
    ],
)
def test_a_day_of_300_children_costs_the_queries_of_a_day_of_3(client, crowd, path):
    client.force_login(crowd)
    client.get(f"{BASE}/{path}", {"date": SMALL})  # warm-up (session, caches)
    few, _ = _queries(lambda: client.get(f"{BASE}/{path}", {"date": SMALL}))
    many, response = _queries(lambda: client.get(f"{BASE}/{path}", {"date": BIG}))
    assert many == few, f"3 children: {few} queries; 300 children: {many}"
    if path == "gestion/effectifs/":
        assert "300</strong> places réservées" in response.content.decode()


def test_the_list_page_query_count_is_pinned(client, crowd, django_assert_num_queries):
    client.force_login(crowd)
    client.get(f"{BASE}/gestion/effectifs/", {"date": SMALL})
    # 9: session, user, staff membership (permission), the commune's products (with services),
    # the day's reservations with children and variants joined, the products' variants, the
    # services' closures, the audit entry, the membership again for the menu (context).
    with django_assert_num_queries(9):
        response = client.get(f"{BASE}/gestion/effectifs/", {"date": BIG, "vue": "semaine"})
    assert "303</strong> places réservées" in response.content.decode()


def test_the_api_and_the_forecast_cost_constant_queries(client, crowd, django_assert_num_queries):
    api = client_for(crowd)
    api.get(f"{BASE}/api/v1/staff/headcount", {"date": SMALL})
    # 8: search_path, token+user, membership, products, reservations (children and variants
    # joined), variants, closures, audit entry.
    with django_assert_num_queries(8):
        body = api.get(f"{BASE}/api/v1/staff/headcount", {"week": "2026-W50"}).json()
    assert body["total"] == 303
    client.force_login(crowd)
    client.get(f"{BASE}/gestion/effectifs/previsions/", {"mois": "2026-12"})
    few, _ = _queries(
        lambda: client.get(f"{BASE}/gestion/effectifs/previsions/", {"mois": "2026-11"})
    )
    many, response = _queries(
        lambda: client.get(f"{BASE}/gestion/effectifs/previsions/", {"mois": "2026-12"})
    )
    assert many == few
    assert "303</strong> places réservées" in response.content.decode()
