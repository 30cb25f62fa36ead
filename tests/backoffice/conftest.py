"""The family file's tests: an agent of commune A, a canteen in commune B."""

from __future__ import annotations

import datetime

import pytest

from tenant_apps.catalog.models import DeadlineKind, OpeningPeriod, Product, Service, ServiceKind
from tenants.models import Membership
from tests.factories import UserFactory


@pytest.fixture
def agent(commune_a):
    user = UserFactory(first_name="Agnès", last_name="Agent")
    Membership.objects.create(user=user, commune=commune_a, role="agent")
    return user


@pytest.fixture
def agent_b(commune_b):
    user = UserFactory()
    Membership.objects.create(user=user, commune=commune_b, role="manager")
    return user


@pytest.fixture
def canteen_b(commune_b, in_commune):
    with in_commune(commune_b):
        service = Service.objects.create(
            kind=ServiceKind.CANTINE, name="Restaurant scolaire B", payment_methods=["wallet"]
        )
        product = Product.objects.create(
            service=service,
            name="Repas B",
            price_cents=450,
            weekdays=[0, 1, 3, 4],
            opening_period=OpeningPeriod.SCHOOL_DAYS,
            booking_deadline_kind=DeadlineKind.WORKING_DAYS_BEFORE,
            booking_deadline_days=2,
            booking_deadline_time=datetime.time(12, 0),
            cancel_deadline_kind=DeadlineKind.WORKING_DAYS_BEFORE,
            cancel_deadline_days=2,
            cancel_deadline_time=datetime.time(12, 0),
        )
    product.service = service
    return product
