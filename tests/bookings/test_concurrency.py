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
    with in_commune(commune_a):  # a capacity, so the day's counter is kept and checked
        Product.objects.filter(pk=canteen.pk).update(daily_capacity=50)
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


def test_families_race_for_the_last_places_while_one_cancels_exactly_the_capacity_is_booked(
    commune_a, in_commune, canteen
):
    """No day-wide lock between families (issue 15): twelve families of two race for the last
    places of two days while a booked family cancels one child; the counters are taken by one
    conditional upsert each. Exactly the capacity is booked, the losers pay nothing, the
    winners pay the sibling price for their second child, the cancellation's refund follows
    the sibling rule, and the ledger balances."""
    from django.core.management import call_command

    from tenant_apps.bookings.models import ReservationStatus

    second = DAY + datetime.timedelta(days=1)
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(
            daily_capacity=10, sibling_reduction_percent=50
        )
    first = make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=5000)
    racers = [
        make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=5000)
        for _ in range(12)
    ]
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        for parent in [first, *racers]:
            add_to_cart(
                commune=commune_a,
                user=parent,
                product_id=canteen.pk,
                child_ids=[k.pk for k in parent.kids],
                dates=[DAY, second],
            )
        placed = checkout(commune=commune_a, user=first, payment_method="wallet")
    cancelled = next(r for r in placed.reservations if r.date == DAY)
    before = sum(p.balance_cents for p in pockets_of(first.family.pk))

    jobs = [
        lambda p=p: checkout(commune=commune_a, user=p, payment_method="wallet") for p in racers
    ]
    jobs.append(
        lambda: cancel_reservation(commune=commune_a, user=first, reservation_id=cancelled.pk)
    )
    results = _in_parallel(commune_a, jobs)

    won = [p for p, r in zip(racers, results, strict=False) if isinstance(r, CheckoutResult)]
    lost = [p for p, r in zip(racers, results, strict=False) if isinstance(r, DayFull)]
    # 8 free places on the second day (10 - 2): four families of two, whatever the cancellation.
    assert (len(won), len(lost)) == (4, 8), [type(r) for r in results]
    assert results[-1].refund_cents == 190  # the child left pays the full price: 570 - 380
    assert sum(p.balance_cents for p in pockets_of(first.family.pk)) == before + 190
    for parent in won:  # 380 + 190 a day, two days
        assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 5000 - 1140
    for parent in lost:
        assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 5000
    with in_commune(commune_a):
        live = Reservation.objects.exclude(status=ReservationStatus.CANCELLED)
        assert live.filter(date=DAY).count() == 1 + 8
        assert live.filter(date=second).count() == 2 + 8
        counts = dict(DayCount.objects.filter(product=canteen).values_list("date", "booked"))
        assert counts == {DAY: 9, second: 10}
    call_command("verify_ledger")
