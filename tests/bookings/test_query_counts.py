"""Query counts do not grow with the size of a request."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.bookings.conftest import make_family

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"


def _school_days(start: str, count: int) -> list[str]:
    day, days = datetime.date.fromisoformat(start), []
    while len(days) < count:
        if day.weekday() in (0, 1, 3, 4):
            days.append(day.isoformat())
        day += datetime.timedelta(days=1)
    return days


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code < 300, response.json()
    return len(context.captured_queries)


def test_booking_a_month_for_three_children_costs_the_same_queries_as_one_day(
    frozen, commune_a, in_commune, canteen
):
    warm_up = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=100_000)
    small = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=100_000)
    big = make_family(commune_a, in_commune, canteen.service, children=3, funds_cents=100_000)
    january = [d for d in _school_days("2027-01-04", 40) if d < "2027-02-01"]

    def book(parent, dates):
        def call():
            parent.api.post(
                f"{BASE}/cart/items",
                {
                    "product_id": canteen.pk,
                    "child_ids": [k.pk for k in parent.kids],
                    "dates": dates,
                },
            )
            return parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})

        return call

    _queries(book(warm_up, january[-1:]))  # first-ever booking creates the revenue accounts
    one_day = _queries(book(small, january[:1]))
    month = _queries(book(big, january))
    assert len(january) >= 15
    assert month == one_day, f"one day for one child: {one_day} queries; a month for three: {month}"


def test_listing_a_term_of_reservations_costs_constant_queries(
    frozen, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service, children=2, funds_cents=200_000)
    term = _school_days("2027-01-04", 50)
    term = [d for d in term if d < "2027-02-06"]  # before the February holidays
    parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": term[:1]},
    )
    parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    few = _queries(lambda: parent.api.get(f"{BASE}/reservations"))
    parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [k.pk for k in parent.kids], "dates": term[1:]},
    )
    parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    many = _queries(lambda: parent.api.get(f"{BASE}/reservations"))
    assert many == few


def test_calendar_of_a_year_costs_constant_queries(frozen, commune_a, in_commune, canteen):
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    params = {"product_id": canteen.pk, "child_id": parent.kids[0].pk, "from": "2026-12-03"}
    _queries(lambda: parent.api.get(f"{BASE}/calendar", {**params, "to": "2026-12-04"}))  # warm-up
    week = _queries(lambda: parent.api.get(f"{BASE}/calendar", {**params, "to": "2026-12-10"}))
    year = _queries(lambda: parent.api.get(f"{BASE}/calendar", {**params, "to": "2027-12-01"}))
    assert week == year
