"""Bookings fixtures: commune A's canteen with a product, an enrolled family, frozen time."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from shared_apps.families.services import add_child, get_or_create_family, note_commune
from shared_apps.wallet.services import credit_top_up
from tenant_apps.catalog.models import DeadlineKind, OpeningPeriod, Product, Service, ServiceKind
from tenant_apps.enrollments.models import AccessRequest, Enrollment
from tests.enrollments.conftest import client_for
from tests.factories import UserFactory

PARIS = datetime.timezone(datetime.timedelta(hours=1))

# Thursday 3 December 2026, 10:00 in Paris: school term (zone A), no holiday that week.
NOW = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=PARIS)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def canteen(commune_a, in_commune):
    with in_commune(commune_a):
        service = Service.objects.create(
            kind=ServiceKind.CANTINE,
            name="Cantine",
            payment_methods=["wallet", "card", "direct_debit"],
        )
        product = Product.objects.create(
            service=service,
            name="Réservation repas cantine",
            price_cents=380,
            weekdays=[0, 1, 3, 4],
            opening_period=OpeningPeriod.SCHOOL_DAYS,
            booking_deadline_kind=DeadlineKind.WORKING_DAYS_BEFORE,
            booking_deadline_days=2,
            booking_deadline_time=datetime.time(12, 0),
            cancel_deadline_kind=DeadlineKind.WORKING_DAYS_BEFORE,
            cancel_deadline_days=2,
            cancel_deadline_time=datetime.time(12, 0),
            late_cancellation_refund_percent=0,
        )
    product.service = service
    return product


def make_family(commune, in_commune, service, *, children=2, funds_cents=0):
    parent = UserFactory()
    kids = [
        add_child(
            user=parent,
            data={
                "last_name": parent.last_name,
                "first_name": f"Enfant{i}",
                "birth_date": f"201{5 + i}-03-0{i + 1}",
                "relation": "mother",
                "school_class": ["CM1", "CE2", "CP"][i % 3],
            },
        )
        for i in range(children)
    ]
    family = get_or_create_family(parent)
    note_commune(family_id=family.pk, commune=commune)
    with in_commune(commune):
        request = AccessRequest.objects.create(
            service=service, family_id=family.pk, submitted_by=parent, status="accepted"
        )
        Enrollment.objects.bulk_create(
            Enrollment(service=service, child_id=k.pk, family_id=family.pk, access_request=request)
            for k in kids
        )
    if funds_cents:
        credit_top_up(
            source_key=f"seed:{family.pk}",
            family_id=family.pk,
            amount_cents=funds_cents,
            commune=commune,
            service_id=service.pk,
        )
    parent.kids = kids
    parent.family = family
    parent.api = client_for(parent)
    return parent


@pytest.fixture
def parent(commune_a, in_commune, canteen):
    return make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
