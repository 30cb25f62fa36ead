"""A suspended commune in the enumerated suite (issue 14's suspension, issue 15's matrix).

Commune A is suspended (inside a transaction rolled back at the end); then every route of a
family or of the staff inside A, with every method that writes, is asked by the person it is
for, with the world's real ids (tests/security/world.py): a cart checkout, a cancellation, a
top-up of A's pockets, a counter payment, a booking on behalf, an attendance change, an invoice
payment… Whatever each answers, no money moves (the ledger's postings and balances are those of
before), no place is booked or given back, no payment is started, and nothing answers 5xx;
the checkout says why in the stable error format (403 `commune_suspended`). Routes come from
the resolver, so a new way to move money is covered without being named here.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from shared_apps.payments.models import Payment
from shared_apps.wallet.models import Account, Posting
from tenant_apps.bookings.models import Order, Reservation
from tenants.services import suspend_commune
from tests.badinput.probes import rolled_back
from tests.security.routes import all_routes

pytestmark = pytest.mark.xdist_group("security")

WRITES = ("POST", "PUT", "PATCH", "DELETE")
ACTOR_OF = {"commune": "parent_f", "staff": "manager_a"}


def _money_and_places(commune) -> tuple:
    with tenant_context(commune):
        places = sorted(Reservation.objects.values_list("pk", "status", "refund_cents"))
        orders = Order.objects.count()
    return (
        Posting.objects.count(),
        sorted(Account.objects.values_list("pk", "balance_cents")),
        Payment.objects.count(),
        places,
        orders,
    )


def test_a_suspended_commune_moves_no_money_and_books_nothing_whatever_is_asked(
    world, quiet_request_log
):
    commune = world.communes["a"]
    problems, tried = [], 0
    with rolled_back():
        suspend_commune(commune=commune, reason="Contrôle de la régie")
        before = _money_and_places(commune)
        for route in all_routes():
            actor = world.actors.get(ACTOR_OF.get(route.kind, ""))
            if actor is None:
                continue
            path = route.path("commune-a", world.ids)
            for method in (m for m in route.methods if m in WRITES):
                tried += 1
                extra = actor.api_headers if route.is_api else {}
                with rolled_back():
                    response = actor.page.generic(method, path, **extra)
                    after = _money_and_places(commune)
                where = f"{method} {path} → {response.status_code}"
                if response.status_code >= 500:
                    problems.append(f"{where}: server error")
                if after != before:
                    problems.append(f"{where}: money or places moved")

        checkout = world.actors["parent_f"].page.post(
            "/c/commune-a/api/v1/cart/checkout",
            {"payment_method": "wallet"},
            content_type="application/json",
            **world.actors["parent_f"].api_headers,
        )
    assert tried >= 40, f"only {tried} writes tried"
    assert not problems, f"{tried} writes:\n" + "\n".join(problems)
    assert checkout.status_code == 403, checkout.content[:300]
    assert checkout.json()["error"]["code"] == "commune_suspended"
