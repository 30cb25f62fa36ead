"""Shared set-up of the attendance ("pointage") tests: an agent, a day booked, the rules."""

from __future__ import annotations

import datetime

from django.core.management import call_command
from django_tenants.utils import tenant_context

from shared_apps.wallet.selectors import pockets_of
from tenant_apps.catalog.models import Product
from tenants.models import Membership
from tests.factories import UserFactory
from tests.fixtures.bookings import PARIS
from tests.fixtures.clients import client_for

BASE = "/c/commune-a/api/v1"
PAGE = "/c/commune-a/gestion/pointage/"
DAY = "2026-12-07"  # Monday, booked from Thursday 3 December (the `frozen` day)
ON_THE_DAY = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=PARIS)
NEXT_DAY = datetime.datetime(2026, 12, 8, 9, 0, tzinfo=PARIS)


def make_agent(commune):
    """An agent of `commune`, with an API client (`api`). Each test module has its `agent`
    fixture made by this (a fixture imported from here would shadow the test's argument)."""
    user = UserFactory(first_name="Agnès")
    Membership.objects.create(user=user, commune=commune, role="agent")
    user.api = client_for(user)
    return user


def set_rules(commune, product, **rules) -> None:
    with tenant_context(commune):
        Product.objects.filter(pk=product.pk).update(**rules)


def book(parent, product, children, day=DAY, method="wallet"):
    """The parent books `children` on `day` (before the deadline, at the `frozen` time)."""
    added = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": product.pk, "child_ids": [k.pk for k in children], "dates": [day]},
    )
    assert added.status_code == 201, added.json()
    done = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": method})
    assert done.status_code in (200, 201), done.json()


def pocket_cents(family_id: int) -> int:
    """The family's pocket(s) for services, in cents (one service in these tests)."""
    return sum(p.balance_cents for p in pockets_of(family_id) if p.scope == "service")


def ledger_is_sound() -> None:
    call_command("verify_ledger")


def mark(agent, product, **lists):
    return agent.api.post(
        f"{BASE}/staff/attendance", {"date": DAY, "product_id": product.pk, **lists}, format="json"
    )
