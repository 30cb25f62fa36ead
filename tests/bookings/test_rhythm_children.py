"""The calendar page's "Ajouter au panier" (chosen days or a weekly rhythm) checks the children
first: another family's child, an unknown id or a child not enrolled get one and the same
answer, decided before any calendar is read, and long lists are refused before any work."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shared_apps.families.services import add_child
from tests.fixtures.bookings import make_family

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"


def _rhythm(client, product, children, **overrides):
    data = {
        "mode": "pattern",
        "children": children,
        "weekdays": ["0", "3"],
        "start": "2026-12-03",
        "end": "2026-12-31",
        **overrides,
    }
    return client.post(f"/c/commune-a/reserver/{product.pk}/ajouter/", data, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def other_family(commune_a, in_commune, canteen):
    """Another family of the commune, its first child booked on Monday 7 December."""
    other = make_family(commune_a, in_commune, canteen.service, funds_cents=5_000)
    other.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [other.kids[0].pk], "dates": ["2026-12-07"]},
    )
    assert other.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"}).status_code == 201
    return other


@pytest.fixture
def not_enrolled(parent):
    """A child of the parent's own family, never enrolled in the canteen."""
    return add_child(
        user=parent,
        data={
            "last_name": parent.last_name,
            "first_name": "Petit",
            "birth_date": "2021-04-02",
            "relation": "mother",
        },
    )


@pytest.mark.parametrize("mode", ["pattern", "days"])
def test_other_familys_unknown_and_not_enrolled_children_get_one_answer_and_no_calendar(
    mode, frozen, client, parent, canteen, other_family, not_enrolled
):
    client.force_login(parent)
    foreign = other_family.kids  # the first is booked on 7 December, the second is not
    cases = {
        "booked elsewhere": [foreign[0].pk],
        "free elsewhere": [foreign[1].pk],
        "unknown": [999_999_999],
        "not enrolled": [not_enrolled.pk],
        "own and foreign": [parent.kids[0].pk, foreign[0].pk],
        "twenty foreign": [foreign[0].pk, *range(900_000_000, 900_000_019)],
    }
    answers, queries = {}, {}
    for name, ids in cases.items():
        with CaptureQueriesContext(connection) as captured:
            if mode == "pattern":
                response = _rhythm(client, canteen, ids)
            else:
                response = client.post(
                    f"/c/commune-a/reserver/{canteen.pk}/ajouter/",
                    {"mode": "days", "children": ids, "dates": ["2026-12-07", "2026-12-08"]},
                    follow=True,
                )
        answers[name] = (response.redirect_chain[0], _messages(response))
        queries[name] = len(captured)

    assert len(set(map(repr, answers.values()))) == 1, answers
    redirect, messages = answers["unknown"]
    assert redirect[1] == 302 and redirect[0].endswith(f"/reserver/{canteen.pk}/")
    assert messages == ["Enfant introuvable ou non inscrit à ce service."]
    # Decided before any calendar or booking is read: the same few queries for one id or twenty.
    assert len(set(queries.values())) == 1, queries
    assert parent.api.get(f"{BASE}/cart").json()["items"] == []


def test_a_refused_child_costs_a_constant_number_of_queries(
    frozen, client, parent, canteen, other_family
):
    """Against the calendar page's own cost: the refusal stops before the calendar."""
    client.force_login(parent)
    url = f"/c/commune-a/reserver/{canteen.pk}/ajouter/"
    data = {
        "mode": "pattern",
        "children": [other_family.kids[0].pk],
        "weekdays": ["0", "3"],
        "start": "2026-12-03",
        "end": "2026-12-31",
    }
    with CaptureQueriesContext(connection) as own:
        client.post(url, {**data, "children": [parent.kids[0].pk]})
    with CaptureQueriesContext(connection) as foreign:
        client.post(url, data)
    assert len(foreign) < len(own)
    assert not any("bookings_reservation" in q["sql"] for q in foreign.captured_queries)
    assert not any("bookings_daycount" in q["sql"] for q in foreign.captured_queries)


def test_own_enrolled_children_still_book_their_rhythm(frozen, client, parent, canteen):
    client.force_login(parent)
    response = _rhythm(client, canteen, [k.pk for k in parent.kids])
    assert _messages(response)[0].startswith("8 réservation(s) ajoutée(s) au panier")


@pytest.mark.parametrize("mode", ["pattern", "days"])
def test_a_thousand_child_ids_are_refused_at_once(mode, frozen, client, parent, canteen):
    client.force_login(parent)
    ids = list(range(1, 991))  # with the form's other fields, just under Django's field limit
    url = f"/c/commune-a/reserver/{canteen.pk}/ajouter/"
    if mode == "pattern":
        data = {"mode": "pattern", "children": ids, "weekdays": ["0"], "start": "2026-12-03"}
        data["end"] = "2026-12-31"
    else:
        data = {"mode": "days", "children": ids, "dates": ["2026-12-07"]}
    started = time.monotonic()
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, data)
    assert time.monotonic() - started < 5  # was 14 s; generous for a loaded CI machine
    assert len(captured) < 10  # session, user, family, product: never one per id
    assert _messages(client.get(response.url)) == ["20 enfants au plus par demande."]
    assert parent.api.get(f"{BASE}/cart").json()["items"] == []


def test_past_django_field_limit_the_page_answers_400(frozen, client, parent, canteen):
    client.force_login(parent)
    client.raise_request_exception = False
    response = client.post(
        f"/c/commune-a/reserver/{canteen.pk}/ajouter/",
        {"mode": "days", "children": list(range(1, 1001)), "dates": ["2026-12-07"]},
    )
    assert response.status_code == 400


def test_a_thousand_child_ids_through_the_api_are_a_fast_400(frozen, parent, canteen):
    started = time.monotonic()
    response = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": list(range(1, 1001)), "dates": ["2026-12-07"]},
        format="json",
    )
    assert time.monotonic() - started < 5  # was 14 s; generous for a loaded CI machine
    assert response.status_code == 400
    assert "child_ids" in response.json()["error"]["fields"]


def test_the_rhythm_form_refuses_more_weekdays_than_a_week_has(frozen, client, parent, canteen):
    client.force_login(parent)
    response = _rhythm(client, canteen, [parent.kids[0].pk], weekdays=["0"] * 6)
    assert _messages(response) == ["Cinq jours au plus."]
    assert parent.api.get(f"{BASE}/cart").json()["items"] == []


def test_the_rhythm_service_refuses_a_period_longer_than_six_months(
    frozen, parent, canteen, commune_a, in_commune
):
    import datetime

    from tenant_apps.bookings.errors import InvalidBooking
    from tenant_apps.bookings.services.cart import add_weekly_rhythm_to_cart

    with in_commune(commune_a), pytest.raises(InvalidBooking) as refused:
        add_weekly_rhythm_to_cart(
            commune=commune_a,
            user=parent,
            product_id=canteen.pk,
            child_ids=[parent.kids[0].pk],
            weekdays=[0],
            start=datetime.date(2026, 12, 3),
            end=datetime.date(2126, 12, 3),
        )
    assert refused.value.message == "Six mois au plus à la fois."
