"""`POST reservations`: book chosen days and pay in one step, without the cart (the app's
« Réserver et payer »). Same rules, errors and money as cart/items then cart/checkout."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.errors import AlreadyBooked
from tenant_apps.bookings.models import CartItem, DayCount, Order, Reservation
from tenant_apps.bookings.services.checkout import CheckoutResult
from tenant_apps.bookings.services.direct_booking import book_and_pay
from tenant_apps.catalog.models import Closure, Product
from tests.fixtures.billing import give_mandate
from tests.fixtures.bookings import make_family

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"
MON, TUE, THU, FRI = "2026-12-07", "2026-12-08", "2026-12-10", "2026-12-11"


def book(parent, product, dates, *, children=None, method="wallet", **extra):
    return parent.api.post(
        f"{BASE}/reservations",
        {
            "product_id": product.pk,
            "child_ids": [k.pk for k in (children or parent.kids)],
            "dates": dates,
            "payment_method": method,
            **extra,
        },
    )


def balance(parent) -> int:
    return sum(p.balance_cents for p in pockets_of(parent.family.pk))


def nothing_booked(commune, in_commune) -> bool:
    with in_commune(commune):
        return not Reservation.objects.exists() and not Order.objects.exists()


def test_two_children_two_days_booked_and_paid_from_the_wallet(
    frozen, parent, canteen, commune_a, in_commune
):
    response = book(parent, canteen, [MON, TUE])

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["amount_cents"], body["wallet_cents"], body["card_cents"]) == (
        "paid",
        4 * 380,
        4 * 380,
        0,
    )
    assert balance(parent) == 10_000 - 4 * 380
    with in_commune(commune_a):
        stored = {
            (r.pk, r.child_id, r.date.isoformat(), r.price_cents, r.order_id)
            for r in Reservation.objects.filter(status="booked")
        }
    answered = {
        (r["id"], r["child_id"], r["date"], r["price_cents"], body["order_id"])
        for r in body["reservations"]
    }
    assert answered == stored and len(stored) == 4
    # The family's list shows them, with their cancellation terms.
    listed = parent.api.get(f"{BASE}/reservations").json()
    assert listed["count"] == 4 and all(r["cancellable_until"] for r in listed["results"])


def test_the_second_child_pays_the_sibling_price(frozen, parent, canteen, commune_a, in_commune):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(sibling_reduction_percent=50)

    body = book(parent, canteen, [MON]).json()

    assert sorted(r["price_cents"] for r in body["reservations"]) == [190, 380]
    assert balance(parent) == 10_000 - 570


def test_the_same_days_leave_the_cart_and_the_others_stay(frozen, parent, canteen):
    parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [k.pk for k in parent.kids], "dates": [MON, THU]},
    )

    assert book(parent, canteen, [MON]).status_code == 201

    left = parent.api.get(f"{BASE}/cart").json()["items"]
    assert sorted({i["date"] for i in left}) == [THU] and len(left) == 2
    # and the cart still checks out: nothing in it is booked twice
    paid = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert paid.status_code == 201, paid.json()


def test_a_closure_decided_by_the_service_is_refused_saying_why(
    frozen, parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):
        Closure.objects.create(
            service=canteen.service, date=datetime.date(2026, 12, 10), reason="Grève"
        )

    response = book(parent, canteen, [MON, THU])

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "day_closed"
    assert "Grève" in error["message"] and error["fields"]["dates"] == [THU]
    assert balance(parent) == 10_000 and nothing_booked(commune_a, in_commune)


@pytest.mark.parametrize(
    ("dates", "code"),
    [
        (["2026-12-09"], "day_closed"),  # a Wednesday: no canteen
        (["2026-12-21"], "day_closed"),  # Christmas holidays
        (["2026-12-04"], "deadline_passed"),  # Friday 4: the deadline was Wednesday noon
        (["2026-13-01"], "invalid"),
        (["lundi"], "invalid"),
    ],
)
def test_a_day_that_cannot_be_booked_refuses_everything(
    frozen, parent, canteen, commune_a, in_commune, dates, code
):
    response = book(parent, canteen, [MON, *dates])

    assert response.json()["error"]["code"] == code, response.json()
    assert response.status_code in (400, 409)
    assert balance(parent) == 10_000 and nothing_booked(commune_a, in_commune)


def test_a_day_already_booked_names_the_child_and_books_nothing_more(
    frozen, parent, canteen, commune_a, in_commune
):
    book(parent, canteen, [MON], children=parent.kids[:1])

    again = book(parent, canteen, [MON, TUE])

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_booked"
    assert parent.kids[0].first_name in again.json()["error"]["message"]
    assert balance(parent) == 10_000 - 380
    with in_commune(commune_a):
        assert Reservation.objects.count() == 1


def test_not_enough_in_the_wallet_books_nothing_and_debits_nothing(
    frozen, commune_a, in_commune, canteen
):
    poor = make_family(commune_a, in_commune, canteen.service, funds_cents=500)

    response = book(poor, canteen, [MON, TUE])

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert balance(poor) == 500 and nothing_booked(commune_a, in_commune)


def test_direct_debit_needs_a_mandate_then_books_to_invoice(frozen, parent, canteen, commune_a):
    refused = book(parent, canteen, [MON], method="direct_debit")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "no_active_mandate"
    # no cart here: the message says nothing was booked, not that "the cart is kept"
    assert "Rien n’a été réservé ni débité." in refused.json()["error"]["message"]
    assert "panier" not in refused.json()["error"]["message"]

    give_mandate(commune_a, parent.family.pk)
    response = book(parent, canteen, [MON], method="direct_debit")

    assert response.status_code == 201, response.json()
    assert (response.json()["status"], response.json()["wallet_cents"]) == ("to_invoice", 0)
    assert balance(parent) == 10_000


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"payment_method": "cheque"}, 400, "invalid"),
        ({"payment_method": ""}, 400, "invalid"),
        ({"product_id": 999_999}, 404, "not_found"),
        ({"product_id": "x"}, 400, "invalid"),
        ({"child_ids": []}, 400, "invalid"),
        ({"dates": []}, 400, "invalid"),
        ({"child_ids": [0]}, 400, "invalid"),
        ({"dates": "2026-12-07"}, 400, "invalid"),
        ({"variant_id": 999_999}, 400, "invalid"),
    ],
)
def test_bad_input_gets_a_stable_error_and_changes_nothing(
    frozen, parent, canteen, commune_a, in_commune, change, status, code
):
    body = {
        "product_id": canteen.pk,
        "child_ids": [k.pk for k in parent.kids],
        "dates": [MON],
        "payment_method": "wallet",
        **change,
    }

    response = parent.api.post(f"{BASE}/reservations", body)

    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert balance(parent) == 10_000 and nothing_booked(commune_a, in_commune)


def test_a_child_of_another_family_or_not_enrolled_is_refused(
    frozen, parent, canteen, commune_a, in_commune
):
    from shared_apps.families.services import add_child

    other = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    assert book(parent, canteen, [MON], children=other.kids[:1]).status_code == 400
    newcomer = add_child(
        user=parent,
        data={
            "last_name": "X",
            "first_name": "Zoé",
            "birth_date": "2019-01-01",
            "relation": "mother",
        },
    )
    refused = book(parent, canteen, [MON], children=[parent.kids[0], newcomer])
    assert refused.status_code == 409 and "Zoé" in refused.json()["error"]["message"]
    assert nothing_booked(commune_a, in_commune) and balance(other) == 10_000


def test_a_user_without_a_family_is_told_to_add_children(frozen, canteen, commune_a):
    from tests.factories import UserFactory
    from tests.fixtures.clients import client_for

    lonely = client_for(UserFactory())
    response = lonely.post(
        f"{BASE}/reservations",
        {"product_id": canteen.pk, "child_ids": [1], "dates": [MON], "payment_method": "wallet"},
    )
    assert response.status_code == 400
    assert "Mes filiations" in response.json()["error"]["message"]


def test_another_commune_neither_sees_the_product_nor_the_children(
    frozen, parent, canteen, commune_b, in_commune
):
    # Commune B's URL with commune A's product and children: B has no such product (404), or,
    # with B's own product, A's children are not enrolled in it; nothing moves anywhere.
    from tenant_apps.catalog.models import Service, ServiceKind

    base_b = "/c/commune-b/api/v1"
    body = {"child_ids": [k.pk for k in parent.kids], "dates": [MON], "payment_method": "wallet"}
    with in_commune(commune_b):
        ids_in_b = set(Product.objects.values_list("pk", flat=True))
        service = Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine B")
        own = Product.objects.create(service=service, name="Repas B", price_cents=100)
    if canteen.pk not in ids_in_b | {own.pk}:
        unknown = parent.api.post(f"{base_b}/reservations", {**body, "product_id": canteen.pk})
        assert unknown.status_code == 404
    response = parent.api.post(f"{base_b}/reservations", {**body, "product_id": own.pk})
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_enrolled"
    with in_commune(commune_b):
        assert not Reservation.objects.exists()
    assert balance(parent) == 10_000


def test_anonymous_is_refused(frozen, canteen):
    from rest_framework.test import APIClient

    response = APIClient().post(
        f"{BASE}/reservations",
        {"product_id": canteen.pk, "child_ids": [1], "dates": [MON], "payment_method": "wallet"},
        format="json",
    )
    assert response.status_code in (401, 403)


def test_a_month_for_three_children_costs_the_queries_of_one_day(
    frozen, commune_a, in_commune, canteen, django_assert_max_num_queries
):
    # Issue 15's goal: a month for two children paid from the wallet in 20 queries at most,
    # whatever the number of children and days (13 here); with a daily capacity so that the
    # counters' upsert takes places.
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(daily_capacity=100)
    january = [
        d.isoformat()
        for d in (datetime.date(2027, 1, 4) + datetime.timedelta(days=n) for n in range(28))
        if d.weekday() in (0, 1, 3, 4)
    ]
    families = [
        make_family(commune_a, in_commune, canteen.service, children=n, funds_cents=100_000)
        for n in (1, 1, 3)
    ]
    book(families[0], canteen, [MON])  # warm: the revenue account and the general pocket

    def queries(parent, dates):
        book(parent, canteen, [FRI])  # its first payment made its general pocket
        with CaptureQueriesContext(connection) as context:
            response = book(parent, canteen, dates)
        assert response.status_code == 201, response.json()
        return len(context.captured_queries)

    one_day = queries(families[1], january[:1])
    month = queries(families[2], january)
    # 13: search_path, token+user, product+service, the children with their enrolment, the
    # quotient familial and whether the cart holds these days; SAVEPOINT, the commune's row
    # FOR SHARE, the days' advisory locks, the closures and the family's places on those days
    # (already booked? sibling price) in one UNION ALL, the order and its reservations (one
    # INSERT of arrays), the day counters (one upsert), the two pockets and the revenue account
    # locked, the ledger transaction with its postings and balances; RELEASE. (The cart is emptied only when it
    # holds some of these days: one DELETE more.)
    assert one_day == month == 13, (one_day, month)
    with in_commune(commune_a):
        assert DayCount.objects.get(product=canteen, date=january[0]).booked == 1 + 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("real_connections")
def test_the_same_booking_sent_twice_at_once_is_paid_once(commune_a, in_commune, canteen):
    # A double tap on « Réserver et payer », two connections at once: one books, the other
    # finds the days taken; one debit.
    from contextlib import ExitStack

    import time_machine
    from django_tenants.utils import tenant_context

    from tests.fixtures.bookings import NOW
    from tests.parallel import run_in_parallel

    parent = make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=5000)

    def context():
        stack = ExitStack()
        stack.enter_context(time_machine.travel(NOW, tick=False))
        stack.enter_context(tenant_context(commune_a))
        return stack

    def job():
        return book_and_pay(
            commune=commune_a,
            user=parent,
            product_id=canteen.pk,
            child_ids=[k.pk for k in parent.kids],
            dates=[MON, TUE],
            payment_method="wallet",
        )

    results = run_in_parallel([job, job], context=context)

    assert sorted(type(r).__name__ for r in results) == sorted(
        [CheckoutResult.__name__, AlreadyBooked.__name__]
    ), results
    assert balance(parent) == 5000 - 4 * 380
    assert LedgerTransaction.objects.filter(kind="spend").count() == 1
    with in_commune(commune_a):
        assert Reservation.objects.count() == 4
        assert not CartItem.objects.exists()
