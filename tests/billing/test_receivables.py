"""Receivables: a day booked by direct debit is owed to the commune's service in the ledger; a
cancellation within the deadline removes it, a late one keeps what the late rule keeps, a
closure removes it all; `verify_ledger` covers receivables."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command

from shared_apps.wallet.errors import ReceivableOverpaid
from shared_apps.wallet.models import Account, AccountKind
from shared_apps.wallet.selectors import history_of, pockets_of
from shared_apps.wallet.services import (
    credit_receivable,
    post_transaction,
    receivable_account,
    receivable_balances,
    revenue_account,
    wallet_of_family,
)
from tenant_apps.bookings.models import Reservation
from tenant_apps.catalog.models import Product
from tenant_apps.catalog.services import add_closure
from tests.fixtures.billing import give_mandate

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"
TUE, THU = "2026-12-08", "2026-12-10"
BEFORE_DEADLINE = datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC)
AFTER_DEADLINE = datetime.datetime(2026, 12, 4, 12, tzinfo=datetime.UTC)  # for Tuesday 8th


def _book(parent, canteen, commune, days, kids=None, method="direct_debit"):
    give_mandate(commune, parent.family.pk)
    response = parent.api.post(
        f"{BASE}/cart/items",
        {
            "product_id": canteen.pk,
            "child_ids": [k.pk for k in (kids or parent.kids[:1])],
            "dates": days,
        },
    )
    assert response.status_code == 201, response.json()
    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": method})
    assert response.status_code == 201, response.json()
    return response.json()


def _owed(parent, commune, canteen) -> int:
    return receivable_balances(parent.family.pk, commune).get(canteen.service.pk, 0)


def _revenue(commune, canteen) -> int:
    return revenue_account(commune, canteen.service.pk).balance_cents


def test_a_direct_debit_booking_is_owed_to_the_service(parent, canteen, commune_a):
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        _book(parent, canteen, commune_a, [TUE, THU])

    assert _owed(parent, commune_a, canteen) == 760
    assert _revenue(commune_a, canteen) == 760
    account = receivable_account(wallet_of_family(parent.family.pk), commune_a, canteen.service.pk)
    assert account.balance_cents == -760  # the family's debt, seen from its wallet
    # The wallet's money did not move, and its history shows no debit.
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000
    assert not history_of(parent.family.pk).filter(account=account).exists()
    call_command("verify_ledger")


def test_a_cancellation_in_time_removes_what_is_owed(parent, canteen, commune_a):
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        body = _book(parent, canteen, commune_a, [TUE, THU])
        tuesday = next(r["id"] for r in body["reservations"] if r["date"] == TUE)
        response = parent.api.post(f"{BASE}/reservations/{tuesday}/cancel")
    assert response.status_code == 200, response.json()

    assert _owed(parent, commune_a, canteen) == 380
    assert _revenue(commune_a, canteen) == 380
    call_command("verify_ledger")


def test_a_late_cancellation_keeps_what_the_late_rule_keeps(parent, canteen, commune_a, in_commune):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(late_cancellation_refund_percent=50)
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        body = _book(parent, canteen, commune_a, [TUE])
    with time_machine.travel(AFTER_DEADLINE, tick=False):
        parent.api.post(f"{BASE}/reservations/{body['reservations'][0]['id']}/cancel")

    assert _owed(parent, commune_a, canteen) == 190  # half is still invoiced
    call_command("verify_ledger")


def test_a_late_cancellation_with_nothing_given_back_keeps_it_all(
    parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):  # the fixture's rule: cancellable late, 0 % given back
        assert Product.objects.get(pk=canteen.pk).late_cancellation_refund_percent == 0
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        body = _book(parent, canteen, commune_a, [TUE])
    with time_machine.travel(AFTER_DEADLINE, tick=False):
        response = parent.api.post(f"{BASE}/reservations/{body['reservations'][0]['id']}/cancel")
    assert response.status_code == 200, response.json()
    assert _owed(parent, commune_a, canteen) == 380


def test_a_sibling_cancellation_credits_what_the_day_settles(
    parent, canteen, commune_a, in_commune
):
    """Two children the same day at the sibling price: cancelling one credits what the rules
    give back for the day, no more (the reservations' refund totals)."""
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(sibling_reduction_percent=20)
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        body = _book(parent, canteen, commune_a, [TUE], kids=parent.kids)
        charged = sum(r["price_cents"] for r in body["reservations"])
        assert _owed(parent, commune_a, canteen) == charged
        parent.api.post(f"{BASE}/reservations/{body['reservations'][1]['id']}/cancel")
    with in_commune(commune_a):
        refunded = sum(Reservation.objects.values_list("refund_cents", flat=True))
        kept = sum(
            r.price_cents - r.refund_cents
            for r in Reservation.objects.filter(paid_by="direct_debit")
        )
    assert _owed(parent, commune_a, canteen) == charged - refunded == kept
    call_command("verify_ledger")


def test_a_closure_removes_everything_owed_that_day(parent, canteen, commune_a, in_commune):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(late_cancellation_refund_percent=0)
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        _book(parent, canteen, commune_a, [TUE, THU])
    with time_machine.travel(AFTER_DEADLINE, tick=False), in_commune(commune_a):
        add_closure(
            commune=commune_a,
            service=canteen.service,
            day=datetime.date(2026, 12, 8),
            reason="Grève",
        )
    assert _owed(parent, commune_a, canteen) == 380
    call_command("verify_ledger")


def test_a_receivable_cannot_be_overpaid(parent, canteen, commune_a):
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        _book(parent, canteen, commune_a, [TUE])
    with pytest.raises(ReceivableOverpaid):
        credit_receivable(
            source_key="test:too-much",
            family_id=parent.family.pk,
            commune=commune_a,
            service_id=canteen.service.pk,
            amount_cents=381,
            description="trop",
        )
    assert _owed(parent, commune_a, canteen) == 380


def test_verify_ledger_refuses_a_receivable_moved_by_anything_else(parent, canteen, commune_a):
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        _book(parent, canteen, commune_a, [TUE])
    wallet = wallet_of_family(parent.family.pk)
    post_transaction(
        source_key="test:stray",
        kind="spend",
        lines=[
            (receivable_account(wallet, commune_a, canteen.service.pk), 100),
            (Account.objects.get(kind=AccountKind.REVENUE, service_id=canteen.service.pk), -100),
        ],
        description="écriture hors règle",
    )
    with pytest.raises(CommandError):
        call_command("verify_ledger")
