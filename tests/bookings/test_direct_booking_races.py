"""Found by an independent attack on the one-step booking (POST reservations), each fixed
and kept as its regression test:

1. A product saved (any save drops and recounts its day counters:
   bookings.signals.counters_follow_capacity) while a day is booked lost the booking's places
   from the counter (`locks.take_places` adds to a counter it saw, and that counter was being
   dropped): the day could then be overbooked. The recount now holds the days' locks.
2. « Réserver et payer » and a cart checkout of the same family and days deadlocked (a 500): the
   one-step booking took the cart after the days' locks, checkout before. It now takes the cart
   first, as checkout does (locks.py).
3. `common.bulk_insert` cast values to `varchar(n)`, which cuts an over-long string instead of
   refusing it as bulk_create does.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import time

import pytest
import time_machine
from django.db import DataError, connection, transaction
from django_tenants.utils import tenant_context

from shared_apps.common.errors import DomainError
from tenant_apps.bookings.models import DayCount, Order, Reservation
from tenant_apps.bookings.services.cancellation import cancel_reservation
from tenant_apps.bookings.services.cart import add_to_cart
from tenant_apps.bookings.services.checkout import CheckoutResult, checkout
from tenant_apps.bookings.services.direct_booking import book_and_pay
from tenant_apps.catalog.models import Product
from tests.factories import UserFactory
from tests.fixtures.bookings import NOW, make_family
from tests.parallel import run_in_parallel

MON = datetime.date(2026, 12, 7)
TUE = datetime.date(2026, 12, 8)


def _someone_waits_for_a_lock(locktype: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = %s", [locktype]
        )
        return cursor.fetchone()[0] > 0


def _wait_until(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _run_threads(commune, jobs) -> list:
    """Each job on its own thread and connection, in `commune` at NOW; results or exceptions."""

    def context():
        stack = contextlib.ExitStack()
        stack.enter_context(time_machine.travel(NOW, tick=False))
        stack.enter_context(tenant_context(commune))
        return stack

    return run_in_parallel(jobs, context=context)


def _book_monday(commune, canteen, parent, kids=None, *, child_ids=None):
    """`parent` books Monday for `kids` (all its children by default) in one step, from the
    wallet."""
    return book_and_pay(
        commune=commune,
        user=parent,
        product_id=canteen.pk,
        child_ids=child_ids or [k.pk for k in (kids or parent.kids)],
        dates=[MON],
        payment_method="wallet",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("real_connections")
def test_a_product_saved_while_a_day_is_booked_leaves_the_counter_equal_to_its_places(
    commune_a, in_commune, canteen
):
    # A day of a product with a capacity of 2 whose counter exists at 0 (one place booked, then
    # cancelled). An agent saves the product (its name: any save drops and recounts the
    # counters) while a family of two books that day in one step.
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(daily_capacity=2)
    first = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=5000)
    racer = make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=5000)
    late = make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=5000)
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        placed = _book_monday(commune_a, canteen, first, first.kids[:1])
        cancel_reservation(commune=commune_a, user=first, reservation_id=placed.reservations[0].pk)
        assert DayCount.objects.get(product=canteen, date=MON).booked == 0

    saved = threading.Event()

    def agent_saves_the_product():
        with transaction.atomic():
            product = Product.objects.get(pk=canteen.pk)
            product.name = "Repas de cantine"
            product.save()  # counters dropped, recounted (none live on Monday: no row)
            saved.set()
            # Commit once the booking waits: on the day's lock the recount now holds (or, before
            # the fix, on the counter row this transaction deleted).
            assert _wait_until(
                lambda: (
                    _someone_waits_for_a_lock("advisory")
                    or _someone_waits_for_a_lock("transactionid")
                )
            )
        return "saved"

    def family_books():
        assert saved.wait(15)
        return _book_monday(commune_a, canteen, racer)

    results = _run_threads(commune_a, [agent_saves_the_product, family_books])
    assert results[0] == "saved" and isinstance(results[1], CheckoutResult), results[0]

    with in_commune(commune_a):
        live = Reservation.objects.filter(product=canteen, date=MON, status="booked").count()
        counter = DayCount.objects.get(product=canteen, date=MON).booked
    assert live == 2
    # Found: the counter is 0 while two places are live (the two new places never counted).
    assert counter == live, f"counter {counter} for {live} live places"

    # and so the full day takes two more children: four places for a capacity of two
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        with contextlib.suppress(DomainError):  # DayFull is the right answer
            _book_monday(commune_a, canteen, late)
        assert Reservation.objects.filter(product=canteen, date=MON, status="booked").count() <= 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("real_connections")
def test_booking_in_one_step_and_paying_the_cart_of_the_same_days_at_once_never_deadlock(
    commune_a, in_commune, canteen, monkeypatch
):
    # The family's cart holds Monday and Tuesday for its two children. One parent taps
    # « Réserver et payer » for Monday in the app while the other pays the cart on the web.
    # The pause only makes the interleaving certain: the app's request has placed its order
    # (days' locks, counters, wallet) and not yet emptied those days from the cart when the
    # web checkout locks the cart, empties it and waits for the days' locks.
    from tenant_apps.bookings.services import direct_booking

    parent = make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=10_000)
    kids = [k.pk for k in parent.kids]
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        add_to_cart(
            commune=commune_a, user=parent, product_id=canteen.pk, child_ids=kids, dates=[MON, TUE]
        )

    placed = threading.Event()
    real_place_order = direct_booking.place_order

    def place_order_then_pause(**kwargs):
        result = real_place_order(**kwargs)
        placed.set()
        # until the web checkout waits: on the cart's row now (before the fix, on the days'
        # locks, having emptied the cart first)
        _wait_until(
            lambda: (
                _someone_waits_for_a_lock("advisory") or _someone_waits_for_a_lock("transactionid")
            ),
            timeout=10,
        )
        return result

    monkeypatch.setattr(direct_booking, "place_order", place_order_then_pause)

    def app_books_monday():
        return _book_monday(commune_a, canteen, parent, child_ids=kids)

    def web_pays_the_cart():
        assert placed.wait(15)
        return checkout(commune=commune_a, user=parent, payment_method="wallet")

    results = _run_threads(commune_a, [app_books_monday, web_pays_the_cart])

    # Either may win; the other must end in a domain answer (AlreadyBooked…), not a database
    # error. Found: OperationalError "deadlock detected" (a 500 for the API).
    outcomes = [type(r).__name__ + (f": {r}" if isinstance(r, Exception) else "") for r in results]
    assert all(isinstance(r, CheckoutResult | DomainError) for r in results), outcomes


@pytest.mark.django_db
def test_bulk_insert_refuses_an_over_long_string_as_bulk_create_does(commune_a, in_commune):
    # Order.status is a CharField(max_length=20): bulk_create raises DataError for 25
    # characters; insert_rows casts to varchar(20), which PostgreSQL truncates without error.
    from shared_apps.common.bulk_insert import insert_rows

    user = UserFactory()
    too_long = "x" * 25
    with in_commune(commune_a):
        with pytest.raises(DataError), transaction.atomic():
            Order.objects.bulk_create(
                [
                    Order(
                        family_id=1,
                        placed_by_id=user.pk,
                        status=too_long,
                        payment_method="wallet",
                        amount_cents=1,
                    )
                ]
            )
        with pytest.raises(DataError), transaction.atomic():
            insert_rows(
                Order,
                [{"amount_cents": 1}],
                family_id=1,
                placed_by_id=user.pk,
                status=too_long,
                payment_method="wallet",
            )
        # Found: the row is written with its status cut to 20 characters.
        assert not Order.objects.filter(status__startswith="xxxxx").exists()


# --- Found by a review of the fix above ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("real_connections")
def test_a_capacity_given_while_a_day_is_being_booked_counts_that_booking(
    commune_a, in_commune, canteen, monkeypatch
):
    # The canteen has no capacity; one place is booked on Monday. A family of two is booking
    # Monday (its order written, not yet committed) when an agent gives the canteen a capacity
    # of 3. Found: the recount could not see the booking in flight, which had read "no capacity"
    # and counted nothing: counter 1 for 3 live places, and a late family of two accepted (5
    # places for 3). Now the recount waits for the day's checkouts, and checkouts read the
    # capacity under the day's lock.
    from tenant_apps.bookings.services import direct_booking

    first = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=5000)
    racer = make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=5000)
    late = make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=5000)
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        _book_monday(commune_a, canteen, first, first.kids[:1])

    placed, saved = threading.Event(), threading.Event()
    real_place_order = direct_booking.place_order

    def place_then_wait(**kwargs):
        result = real_place_order(**kwargs)
        placed.set()
        saved.wait(3)  # the capacity's save waits for this booking now: it cannot come first
        return result

    monkeypatch.setattr(direct_booking, "place_order", place_then_wait)

    def family_books():
        return _book_monday(commune_a, canteen, racer)

    def agent_sets_a_capacity():
        assert placed.wait(15)
        with transaction.atomic():
            product = Product.objects.get(pk=canteen.pk)
            product.daily_capacity = 3
            product.save(update_fields=["daily_capacity"])
        saved.set()
        return "saved"

    results = _run_threads(commune_a, [family_books, agent_sets_a_capacity])
    monkeypatch.setattr(direct_booking, "place_order", real_place_order)
    assert isinstance(results[0], CheckoutResult) and results[1] == "saved", results
    with in_commune(commune_a):
        live = Reservation.objects.filter(product=canteen, date=MON, status="booked").count()
        assert DayCount.objects.get(product=canteen, date=MON).booked == live == 3
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        with pytest.raises(DomainError):  # DayFull
            _book_monday(commune_a, canteen, late)
        assert Reservation.objects.filter(product=canteen, date=MON, status="booked").count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("real_connections")
def test_a_capacity_change_and_a_cancellation_of_the_same_day_never_deadlock(
    commune_a, in_commune, canteen, monkeypatch
):
    # Found: the save holds the product's row and waits for the days' locks; a cancellation
    # holding the day's lock locked its counters with the product row joined (FOR UPDATE without
    # `of`), so waited for the save: PostgreSQL aborted one (a 500 for the agent).
    from tenant_apps.bookings import locks
    from tenant_apps.catalog.services import save_booking_rules

    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(daily_capacity=5)
    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=5000)
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        placed = _book_monday(commune_a, canteen, family, family.kids[:1])
    reservation_id = placed.reservations[0].pk
    locked = threading.Event()
    real_lock = locks.lock_booking_days

    def lock_then_wait(*args, **kwargs):
        real_lock(*args, **kwargs)
        if threading.current_thread().name == "canceller":
            locked.set()  # hold the day's lock until the agent's save waits for it
            assert _wait_until(lambda: _someone_waits_for_a_lock("advisory"), timeout=5)

    monkeypatch.setattr(locks, "lock_booking_days", lock_then_wait)

    def cancel():
        threading.current_thread().name = "canceller"
        return cancel_reservation(commune=commune_a, user=family, reservation_id=reservation_id)

    def agent():
        assert locked.wait(15)
        product = Product.objects.get(pk=canteen.pk)
        return save_booking_rules(commune=commune_a, product=product, changes={"daily_capacity": 4})

    results = _run_threads(commune_a, [cancel, agent])
    assert not any(isinstance(r, Exception) for r in results), results
    with in_commune(commune_a):
        # the place given back; the recount keeps no counter for a day with none live
        assert not DayCount.objects.filter(product=canteen, date=MON, booked__gt=0).exists()
        assert Product.objects.get(pk=canteen.pk).daily_capacity == 4
