"""Jobs: commune B's canteen beside A's, an operator, and a way to run a job as a worker would."""

from __future__ import annotations

import datetime

import pytest

from shared_apps.jobs.scheduling import enqueue_job
from tenant_apps.catalog.models import DeadlineKind, OpeningPeriod, Product, Service, ServiceKind
from tests.factories import UserFactory


@pytest.fixture
def run_job():
    """`run_job(task, *args)`: run as the worker would (retried, recorded, failure kept)."""
    return enqueue_job


@pytest.fixture
def canteen_b(commune_b, in_commune):
    with in_commune(commune_b):
        service = Service.objects.create(
            kind=ServiceKind.CANTINE, name="Cantine B", payment_methods=["wallet", "card"]
        )
        product = Product.objects.create(
            service=service,
            name="Repas",
            price_cents=300,
            weekdays=[0, 1, 3, 4],
            opening_period=OpeningPeriod.SCHOOL_DAYS,
            booking_deadline_kind=DeadlineKind.WORKING_DAYS_BEFORE,
            booking_deadline_days=2,
            booking_deadline_time=datetime.time(12, 0),
        )
    product.service = service
    return product


@pytest.fixture
def operator(db):
    return UserFactory(is_operator=True)
