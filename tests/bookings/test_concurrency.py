"""Real parallel checkouts: capacity is never exceeded, a cart is never paid twice."""

from __future__ import annotations

import datetime
from contextlib import ExitStack

import pytest
import time_machine
from django_tenants.utils import tenant_context

from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.errors import DayFull
from tenant_apps.bookings.models import DayCount, Reservation
from tenant_apps.bookings.services.cancellation import cancel_reservation
from tenant_apps.bookings.services.cart import add_to_cart
from tenant_apps.bookings.services.checkout import CheckoutResult, checkout
from tenant_apps.catalog.models import Product
from tests.fixtures.bookings import NOW, make_family
from tests.parallel import run_in_parallel

# Real connections: these tests share one xdist worker (pyproject's `--dist loadgroup`), so
# their threads never add up against PostgreSQL's max_connections.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("real_connections")]

DAY = datetime.date(2026, 12, 7)


def _in_parallel(commune, jobs):
    def context():
        stack = ExitStack()
        stack.enter_context(time_machine.travel(NOW, tick=False))
        stack.enter_context(tenant_context(commune))
        return stack

    return run_in_parallel(jobs, context=context)


def test_thirty_families_race_for_the_last_five_places(commune_a, in_commune, canteen):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(daily_capacity=5)
    families = [
        make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1000)
        for _ in range(30)
    ]
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        for parent in families:
            add_to_cart(
                commune=commune_a,
                user=parent,
                product_id=canteen.pk,
                child_ids=[parent.kids[0].pk],
                dates=[DAY],
            )

    results = _in_parallel(
        commune_a,
        [
            lambda p=p: checkout(commune=commune_a, user=p, payment_method="wallet")
            for p in families
        ],
    )

    booked = [r for r in results if isinstance(r, CheckoutResult)]
    refused = [r for r in results if isinstance(r, DayFull)]
    assert (len(booked), len(refused)) == (5, 25), [type(r) for r in results]
    with in_commune(commune_a):
        assert Reservation.objects.filter(date=DAY, status="booked").count() == 5
        assert DayCount.objects.get(product=canteen, date=DAY).booked == 5
    debited = [p for p in families if sum(x.balance_cents for x in pockets_of(p.family.pk)) < 1000]
    assert len(debited) == 5  # no debit for the refused


def test_two_checkouts_of_the_same_cart_debit_once(commune_a, in_commune, canteen):
    parent = make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=5000)
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        add_to_cart(
            commune=commune_a,
            user=parent,
            product_id=canteen.pk,
            child_ids=[k.pk for k in parent.kids],
            dates=[DAY],
        )

    results = _in_parallel(
        commune_a, [lambda: checkout(commune=commune_a, user=parent, payment_method="wallet")] * 2
    )

    assert sum(isinstance(r, CheckoutResult) for r in results) == 1
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 5000 - 2 * 380
    assert LedgerTransaction.objects.filter(kind="spend").count() == 1
    with in_commune(commune_a):
        assert Reservation.objects.count() == 2


def test_cancellations_and_checkouts_of_the_same_day_never_deadlock(commune_a, in_commune, canteen):
    booked = [
        make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1000)
        for _ in range(6)
    ]
    buyers = [
        make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1000)
        for _ in range(6)
    ]
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        for parent in booked + buyers:
            add_to_cart(
                commune=commune_a,
                user=parent,
                product_id=canteen.pk,
                child_ids=[parent.kids[0].pk],
                dates=[DAY],
            )
        reservations = {
            p.pk: checkout(commune=commune_a, user=p, payment_method="wallet").reservations[0].pk
            for p in booked
        }

    jobs = [
        lambda p=p: cancel_reservation(commune=commune_a, user=p, reservation_id=reservations[p.pk])
        for p in booked
    ]
    jobs += [
        lambda p=p: checkout(commune=commune_a, user=p, payment_method="wallet") for p in buyers
    ]
    results = _in_parallel(commune_a, jobs)

    assert [r for r in results if isinstance(r, Exception)] == []
    with in_commune(commune_a):
        assert Reservation.objects.filter(date=DAY, status="booked").count() == 6
        assert DayCount.objects.get(product=canteen, date=DAY).booked == 6


def test_a_closure_refunding_many_families_never_deadlocks_with_one_of_them_paying(
    commune_a, in_commune, canteen, monkeypatch
):
    """A closure refunds family after family in one transaction, holding the service's revenue
    account from the first refund on. Another family's wallet payment meanwhile locks its own
    pocket (older than the revenue account: families top up before the first booking), then
    waits for the revenue account: the closure must not then wait for that pocket."""
    import threading
    import time

    from tenant_apps.bookings import settlement
    from tenant_apps.catalog.services import add_closure

    first, second = (
        make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1000)
        for _ in range(2)
    )
    other_day = DAY + datetime.timedelta(days=1)
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        for parent in (first, second):
            add_to_cart(
                commune=commune_a,
                user=parent,
                product_id=canteen.pk,
                child_ids=[parent.kids[0].pk],
                dates=[DAY],
            )
            checkout(commune=commune_a, user=parent, payment_method="wallet")
        add_to_cart(
            commune=commune_a,
            user=second,
            product_id=canteen.pk,
            child_ids=[second.kids[0].pk],
            dates=[other_day],
        )

    refunding = threading.Event()
    real_apply = settlement.apply

    def apply_then_pause(*args, **kwargs):
        posted = real_apply(*args, **kwargs)
        if not refunding.is_set():  # the first family refunded: the revenue account is held
            refunding.set()
            time.sleep(1.5)  # the other family's payment starts and blocks meanwhile
        return posted

    monkeypatch.setattr(settlement, "apply", apply_then_pause)

    def close():
        return add_closure(commune=commune_a, service=canteen.service, day=DAY, reason="Grève")

    def pay():
        assert refunding.wait(timeout=30)
        return checkout(commune=commune_a, user=second, payment_method="wallet")

    results = _in_parallel(commune_a, [close, pay])

    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(p.balance_cents for p in pockets_of(first.family.pk)) == 1000
    assert sum(p.balance_cents for p in pockets_of(second.family.pk)) == 1000 - 380
