"""Booking through the API under the commune's rules, with frozen time."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Reservation
from tenant_apps.catalog.models import Closure, Product, Service, ServiceKind
from tests.factories import UserFactory
from tests.fixtures.billing import give_mandate
from tests.fixtures.bookings import make_family
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"
MON, TUE, THU, FRI = "2026-12-07", "2026-12-08", "2026-12-10", "2026-12-11"


def balance(parent) -> int:
    return sum(p.balance_cents for p in pockets_of(parent.family.pk))


def add(parent, product, dates, children=None):
    return parent.api.post(
        f"{BASE}/cart/items",
        {
            "product_id": product.pk,
            "child_ids": [k.pk for k in (children or parent.kids)],
            "dates": dates,
        },
    )


def test_book_two_children_and_pay_from_the_wallet(frozen, parent, canteen, commune_a, in_commune):
    added = add(parent, canteen, [MON, TUE])
    assert added.status_code == 201, added.json()
    assert len(added.json()) == 4
    cart = parent.api.get(f"{BASE}/cart").json()
    assert cart["total_cents"] == 4 * 380 and cart["expires_at"]

    paid = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})

    assert paid.status_code == 201, paid.json()
    body = paid.json()
    assert (body["status"], body["amount_cents"], body["wallet_cents"]) == ("paid", 1520, 1520)
    assert balance(parent) == 10_000 - 1520
    with in_commune(commune_a):
        assert Reservation.objects.filter(status="booked").count() == 4
    assert parent.api.get(f"{BASE}/cart").json()["items"] == []


def test_calendar_shows_each_days_state(frozen, parent, canteen, commune_a, in_commune):
    with in_commune(commune_a):
        Closure.objects.create(
            service=canteen.service, date=datetime.date(2026, 12, 11), reason="Grève"
        )
    add(parent, canteen, [MON], children=parent.kids[:1])
    parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    days = parent.api.get(
        f"{BASE}/calendar",
        {
            "product_id": canteen.pk,
            "child_id": parent.kids[0].pk,
            "from": "2026-12-03",
            "to": "2026-12-21",
        },
    ).json()
    state = {day["date"]: day["status"] for day in days}
    assert state["2026-12-04"] == "deadline_passed"  # Friday: deadline was Wednesday noon
    assert state[MON] == "booked"
    assert state[TUE] == "bookable"
    assert state["2026-12-09"] == "closed"  # Wednesday
    assert state[FRI] == "closed"  # closure
    assert state["2026-12-21"] == "closed"  # Christmas holidays
    assert days[5]["price_cents"] == 380


def test_booking_deadline_at_the_boundary_minute(parent, canteen):
    # Monday 7 Dec: deadline Thursday 3 Dec 12:00 Paris (11:00 UTC).
    with time_machine.travel(
        datetime.datetime(2026, 12, 3, 10, 59, 59, tzinfo=datetime.UTC), tick=False
    ):
        assert add(parent, canteen, [MON], parent.kids[:1]).status_code == 201
    with time_machine.travel(
        datetime.datetime(2026, 12, 3, 11, 0, tzinfo=datetime.UTC), tick=False
    ):
        late = add(parent, canteen, [MON], parent.kids[1:])
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "deadline_passed"
    assert "Délai de réservation dépassé" in late.json()["error"]["message"]


def test_booking_deadline_across_the_dst_change(parent, canteen):
    # Tuesday 30 March 2027 is in summer time (the clocks change on Sunday 28); Monday 29 is
    # Easter Monday. Two working days before → Thursday 25 March 12:00 Paris, winter time,
    # so 11:00 UTC.
    with time_machine.travel(
        datetime.datetime(2027, 3, 25, 10, 59, tzinfo=datetime.UTC), tick=False
    ):
        assert add(parent, canteen, ["2027-03-30"], parent.kids[:1]).status_code == 201
    with time_machine.travel(
        datetime.datetime(2027, 3, 25, 11, 0, tzinfo=datetime.UTC), tick=False
    ):
        assert (
            add(parent, canteen, ["2027-03-30"], parent.kids[1:]).json()["error"]["code"]
            == "deadline_passed"
        )


@pytest.mark.parametrize("day", ["2026-12-09", "2026-12-21", "2026-12-25", "2026-12-12"])
def test_closed_days_are_refused(frozen, parent, canteen, day):
    response = add(parent, canteen, [MON, day])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "day_closed"
    assert parent.api.get(f"{BASE}/cart").json()["items"] == []  # all or nothing


def test_a_child_not_enrolled_cannot_be_booked(frozen, parent, canteen):
    from shared_apps.families.services import add_child

    newcomer = add_child(
        user=parent,
        data={
            "last_name": "X",
            "first_name": "Zoé",
            "birth_date": "2019-01-01",
            "relation": "mother",
        },
    )
    response = add(parent, canteen, [MON], children=[parent.kids[0], newcomer])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_enrolled"
    assert "Zoé" in response.json()["error"]["message"]
    assert parent.api.get(f"{BASE}/cart").json()["items"] == []


def test_another_familys_child_is_refused(frozen, parent, canteen, commune_a, in_commune):
    other = make_family(commune_a, in_commune, canteen.service)
    response = add(parent, canteen, [MON], children=other.kids[:1])
    assert response.status_code == 400
    assert parent.api.get(f"{BASE}/cart").json()["items"] == []


def test_a_product_of_another_commune_is_404(frozen, parent, commune_a, commune_b, in_commune):
    with in_commune(commune_a):
        ids_in_a = set(Product.objects.values_list("pk", flat=True))
    with in_commune(commune_b):
        service = Service.objects.create(kind=ServiceKind.GARDERIE, name="Garderie B")
        # B's own product, under an id that A does not also have (each schema numbers its
        # rows from its own sequence, which earlier tests have moved by chance).
        for i in range(len(ids_in_a) + 1):
            product = Product.objects.create(service=service, name=f"Garderie {i}", price_cents=100)
            if product.pk not in ids_in_a:
                break
    response = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": product.pk, "child_ids": [parent.kids[0].pk], "dates": [MON]},
    )
    assert response.status_code == 404


def test_the_same_child_and_day_twice_is_refused(frozen, parent, canteen):
    add(parent, canteen, [MON])
    parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    again = add(parent, canteen, [MON, TUE])
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_booked"


def test_adding_the_same_days_to_the_cart_twice_keeps_one_line(frozen, parent, canteen):
    add(parent, canteen, [MON])
    add(parent, canteen, [MON])
    assert len(parent.api.get(f"{BASE}/cart").json()["items"]) == 2


def test_insufficient_balance_books_nothing_and_debits_nothing(
    frozen, commune_a, in_commune, canteen
):
    poor = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    add(poor, canteen, [MON, TUE])
    response = poor.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert balance(poor) == 500
    with in_commune(commune_a):
        assert not Reservation.objects.exists()
    assert len(poor.api.get(f"{BASE}/cart").json()["items"]) == 4  # the cart is kept


def test_direct_debit_books_without_debiting(frozen, parent, canteen, commune_a):
    give_mandate(commune_a, parent.family.pk)
    add(parent, canteen, [MON])
    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "direct_debit"})
    assert response.json()["status"] == "to_invoice"
    assert balance(parent) == 10_000


def test_a_payment_method_the_service_refuses(frozen, parent, canteen, commune_a, in_commune):
    with in_commune(commune_a):
        Service.objects.filter(pk=canteen.service.pk).update(payment_methods=["wallet"])
    add(parent, canteen, [MON])
    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "direct_debit"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_method_not_accepted"


def test_bad_checkout_input(frozen, parent):
    assert (
        parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "bitcoin"}).status_code == 400
    )
    assert (
        parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"}).json()["error"][
            "code"
        ]
        == "cart_empty"
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"child_ids": [], "dates": [MON]},
        {"dates": ["pas-une-date"]},
        {"dates": []},
        {"child_ids": ["x"]},
        {"product_id": "abc"},
    ],
)
def test_bad_cart_input_is_a_400(frozen, parent, canteen, payload):
    data = {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": [MON], **payload}
    response = parent.api.post(f"{BASE}/cart/items", data)
    assert response.status_code == 400, response.json()


def _book(parent, canteen, dates):
    add(parent, canteen, dates, parent.kids[:1])
    return parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"}).json()[
        "reservations"
    ]


def test_cancel_within_the_deadline_refunds_the_service_pocket(frozen, parent, canteen):
    reservation = _book(parent, canteen, [TUE])[0]
    assert reservation["refund_if_cancelled_cents"] == 380
    response = parent.api.post(f"{BASE}/reservations/{reservation['id']}/cancel")
    assert response.json() == {
        "refund_cents": 380,
        "pocket": "service",
        "message": "Réservation annulée. 3,80\u00a0€ sont recrédités sur votre porte-monnaie, "
        "pour le service « Cantine ».",
    }
    assert balance(parent) == 10_000
    listed = parent.api.get(f"{BASE}/reservations").json()["results"]
    assert listed[0]["status"] == "cancelled"


def test_cancel_after_the_deadline_refunds_nothing(parent, canteen):
    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC), tick=False):
        reservation = _book(parent, canteen, [MON])[0]
    with time_machine.travel(
        datetime.datetime(2026, 12, 3, 11, 0, tzinfo=datetime.UTC), tick=False
    ):
        assert (
            parent.api.get(f"{BASE}/reservations").json()["results"][0]["refund_if_cancelled_cents"]
            == 0
        )
        response = parent.api.post(f"{BASE}/reservations/{reservation['id']}/cancel")
    assert response.json() == {
        "refund_cents": 0,
        "pocket": None,
        "message": "Réservation annulée. Aucun remboursement n’est fait.",
    }
    assert balance(parent) == 10_000 - 380


def test_no_cancellation_after_the_deadline_when_the_commune_says_so(
    parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(late_cancellation_refund_percent=None)
    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC), tick=False):
        reservation = _book(parent, canteen, [MON])[0]
    with time_machine.travel(datetime.datetime(2026, 12, 4, 9, tzinfo=datetime.UTC), tick=False):
        response = parent.api.post(f"{BASE}/reservations/{reservation['id']}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_cancellable"


def test_a_cancelled_day_can_be_booked_again(frozen, parent, canteen):
    reservation = _book(parent, canteen, [TUE])[0]
    parent.api.post(f"{BASE}/reservations/{reservation['id']}/cancel")
    again = _book(parent, canteen, [TUE])
    assert again[0]["status"] == "booked" and again[0]["id"] != reservation["id"]
    assert balance(parent) == 10_000 - 380


def test_another_familys_reservation_cannot_be_cancelled_or_seen(frozen, parent, canteen):
    reservation = _book(parent, canteen, [TUE])[0]
    stranger = client_for(UserFactory())
    assert stranger.post(f"{BASE}/reservations/{reservation['id']}/cancel").status_code == 404
    assert stranger.get(f"{BASE}/reservations").json()["count"] == 0
    assert balance(parent) == 10_000 - 380


def test_capacity_is_enforced_at_add_and_at_checkout(
    frozen, parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(daily_capacity=1)
    assert (
        add(parent, canteen, [MON]).json()["error"]["code"] == "day_full"
    )  # two children, one place
    assert add(parent, canteen, [MON], parent.kids[:1]).status_code == 201
    other = make_family(commune_a, in_commune, canteen.service, funds_cents=1000)
    add(other, canteen, [MON], other.kids[:1])
    parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    late = other.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "day_full"
    assert balance(other) == 1000


def test_a_capacity_removed_then_set_again_counts_the_places_booked_meanwhile(
    frozen, parent, canteen, commune_a, in_commune
):
    """Without a capacity no counter follows the bookings (no hot row): setting one again must
    not start from the count it had when it was removed, or the day could be overbooked."""
    from tenant_apps.catalog.services import save_booking_rules

    def capacity(places):
        with in_commune(commune_a):
            product = Product.objects.get(pk=canteen.pk)
            save_booking_rules(
                commune=commune_a, product=product, changes={"daily_capacity": places}
            )

    capacity(3)
    assert add(parent, canteen, [MON], parent.kids[:1]).status_code == 201
    assert parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"}).status_code == 201
    capacity(None)  # the counter says 1 and stops following
    other = make_family(commune_a, in_commune, canteen.service, funds_cents=1000)
    assert add(other, canteen, [MON]).status_code == 201
    assert other.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"}).status_code == 201
    capacity(3)  # 3 places live: the day is full
    third = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1000)
    refused = add(third, canteen, [MON])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "day_full"
    with in_commune(commune_a):
        assert Reservation.objects.filter(product=canteen, date=MON, status="booked").count() == 3


def test_sibling_reduction_and_quotient_familial(frozen, parent, canteen, commune_a, in_commune):
    from tenant_apps.enrollments.models import FamilyProfile

    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(
            sibling_reduction_percent=50, qf_brackets=[{"max_qf": 800, "price_cents": 200}]
        )
        FamilyProfile.objects.create(family_id=parent.family.pk, quotient_familial=650)
    prices = sorted(item["price_cents"] for item in add(parent, canteen, [MON]).json())
    assert prices == [100, 200]


def test_headcount_lists_the_days_children_for_staff_only(
    frozen, parent, canteen, commune_a, commune_b
):
    from tenants.models import Membership

    add(parent, canteen, [MON])
    parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    body = client_for(agent).get(f"{BASE}/staff/headcount", {"date": MON}).json()
    assert body["total"] == 2
    names = {c["first_name"] for g in body["products"][0]["groups"] for c in g["children"]}
    assert names == {"Enfant0", "Enfant1"}
    assert {g["school_class"] for g in body["products"][0]["groups"]} == {"CM1", "CE2"}
    outsider = UserFactory()
    Membership.objects.create(user=outsider, commune=commune_b, role="manager")
    assert client_for(outsider).get(f"{BASE}/staff/headcount", {"date": MON}).status_code == 403
    assert parent.api.get(f"{BASE}/staff/headcount", {"date": MON}).status_code == 403
    assert client_for(agent).get(f"{BASE}/staff/headcount", {"date": "demain"}).status_code == 400


def test_closing_a_booked_day_cancels_and_refunds_in_full(
    frozen, parent, canteen, commune_a, in_commune
):
    from tenant_apps.catalog.services import add_closure

    add(parent, canteen, [MON])
    parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    with in_commune(commune_a):
        add_closure(
            commune=commune_a,
            service=canteen.service,
            day=datetime.date.fromisoformat(MON),
            reason="Grève",
        )
        assert set(Reservation.objects.values_list("status", flat=True)) == {"cancelled"}
    assert balance(parent) == 10_000


def test_viewing_the_headcount_is_audited(frozen, parent, canteen, commune_a):
    from shared_apps.audit.models import AuditEntry
    from tenants.models import Membership

    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    client_for(agent).get(f"{BASE}/staff/headcount", {"date": MON})
    entry = AuditEntry.objects.get(action="headcount.view")
    assert (entry.actor_id, entry.commune_id, entry.target_id) == (agent.pk, commune_a.pk, MON)


def test_a_day_closed_after_it_went_into_the_cart_is_refused_at_checkout(
    frozen, parent, canteen, commune_a, in_commune
):
    add(parent, canteen, [MON, TUE])
    with in_commune(commune_a):
        Closure.objects.create(
            service=canteen.service, date=datetime.date(2026, 12, 8), reason="Grève"
        )
    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "day_closed"
    assert balance(parent) == 10_000


def test_a_parent_is_told_why_each_closed_day_is_closed(frozen, parent, canteen):
    response = add(parent, canteen, [MON, "2026-12-09", "2026-12-21", "2026-12-22"])

    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        "Jour fermé — pas d’accueil le mercredi : mercredi 09/12 ; "
        "Vacances de Noël : lundi 21/12, mardi 22/12."
    )
    assert response.json()["error"]["fields"]["dates"] == ["2026-12-09", "2026-12-21", "2026-12-22"]
