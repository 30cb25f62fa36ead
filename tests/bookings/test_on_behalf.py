"""Guide step 7, the "cagnotte": an agent books for a family that forgot, with its agreement."""

from __future__ import annotations

import pytest
from django.core import mail

from shared_apps.audit.models import AuditEntry
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Order, Reservation
from tenants.models import Membership
from tests.factories import UserFactory
from tests.fixtures.bookings import make_family
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"


@pytest.fixture
def agent(commune_a):
    user = UserFactory()
    Membership.objects.create(user=user, commune=commune_a, role="agent")
    return user


def test_agent_books_after_the_parents_deadline_paid_from_the_wallet(
    frozen, agent, parent, canteen, commune_a, in_commune, send_mail_now
):
    with send_mail_now():
        response = client_for(agent).post(
            f"{BASE}/staff/reservations",
            {
                "child_id": parent.kids[0].pk,
                "product_id": canteen.pk,
                "dates": ["2026-12-04"],
                "consent_note": "Mme Martin, au téléphone, 8 h 05",
            },
        )
    assert response.status_code == 201, response.json()
    assert response.json()[0]["date"] == "2026-12-04"
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000 - 380
    with in_commune(commune_a):
        order = Order.objects.get()
        assert order.on_behalf and order.placed_by_id == agent.pk
    entry = AuditEntry.objects.get(action="booking.on_behalf")
    assert (entry.actor_id, entry.family_id) == (agent.pk, parent.family.pk)
    assert mail.outbox[0].to == [parent.email]
    assert "a réservé pour vous" in mail.outbox[0].subject


def test_consent_is_required_and_nothing_is_booked_without(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    response = client_for(agent).post(
        f"{BASE}/staff/reservations",
        {
            "child_id": parent.kids[0].pk,
            "product_id": canteen.pk,
            "dates": ["2026-12-07"],
            "consent_note": " ",
        },
    )
    assert response.status_code == 400
    with in_commune(commune_a):
        assert not Reservation.objects.exists()


def test_insufficient_wallet_books_nothing(frozen, agent, commune_a, in_commune, canteen):
    poor = make_family(commune_a, in_commune, canteen.service, funds_cents=100)
    response = client_for(agent).post(
        f"{BASE}/staff/reservations",
        {
            "child_id": poor.kids[0].pk,
            "product_id": canteen.pk,
            "dates": ["2026-12-07"],
            "consent_note": "accord oral",
        },
    )
    assert response.status_code == 409
    with in_commune(commune_a):
        assert not Reservation.objects.exists()


def test_only_staff_of_this_commune_can_book_on_behalf(frozen, parent, canteen, commune_b):
    outsider = UserFactory()
    Membership.objects.create(user=outsider, commune=commune_b, role="manager")
    data = {
        "child_id": parent.kids[0].pk,
        "product_id": canteen.pk,
        "dates": ["2026-12-07"],
        "consent_note": "x",
    }
    assert client_for(outsider).post(f"{BASE}/staff/reservations", data).status_code == 403
    assert parent.api.post(f"{BASE}/staff/reservations", data).status_code == 403
    # Under B, A's child is not enrolled anywhere: not B's to book.
    assert client_for(outsider).post(
        "/c/commune-b/api/v1/staff/reservations", data
    ).status_code in (404, 409)


def test_on_behalf_page(frozen, client, agent, parent, canteen):
    client.force_login(agent)
    page = client.get("/c/commune-a/gestion/reserver-pour/").content.decode()
    assert parent.kids[0].first_name in page and "Réservation repas cantine" in page
    response = client.post(
        "/c/commune-a/gestion/reserver-pour/",
        {
            "child_id": parent.kids[0].pk,
            "product_id": canteen.pk,
            "dates": "07/12/2026, 2026-12-08",
            "consent_note": "M. Martin au guichet",
        },
    )
    assert response.status_code == 302
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000 - 760


def test_attendance_marks_booked_children_only(agent, parent, canteen, commune_a, in_commune):
    import datetime

    import time_machine

    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC), tick=False):
        parent.api.post(
            f"{BASE}/cart/items",
            {
                "product_id": canteen.pk,
                "child_ids": [k.pk for k in parent.kids],
                "dates": ["2026-12-07"],
            },
        )
        parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    staff = client_for(agent)
    with time_machine.travel(datetime.datetime(2026, 12, 7, 13, tzinfo=datetime.UTC), tick=False):
        stranger = UserFactory()
        wrong = staff.post(
            f"{BASE}/staff/attendance",
            {"date": "2026-12-07", "product_id": canteen.pk, "present": [stranger.pk + 10_000]},
        )
        assert wrong.status_code == 400
        ok = staff.post(
            f"{BASE}/staff/attendance",
            {
                "date": "2026-12-07",
                "product_id": canteen.pk,
                "present": [parent.kids[0].pk],
                "absent": [parent.kids[1].pk],
            },
        )
        assert ok.json()["updated"] == 2
        assert (
            parent.api.post(
                f"{BASE}/staff/attendance", {"date": "2026-12-07", "product_id": canteen.pk}
            ).status_code
            == 403
        )
    with in_commune(commune_a):
        assert sorted(Reservation.objects.values_list("status", flat=True)) == [
            "absent",
            "attended",
        ]
    assert AuditEntry.objects.filter(action="booking.attendance", actor=agent).exists()


def test_staff_cannot_book_beyond_the_calendar(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    response = client_for(agent).post(
        f"{BASE}/staff/reservations",
        {
            "child_id": parent.kids[0].pk,
            "product_id": canteen.pk,
            "dates": ["9999-12-31"],
            "consent_note": "x",
        },
    )
    assert response.status_code == 400
    far = client_for(agent).post(
        f"{BASE}/staff/reservations",
        {
            "child_id": parent.kids[0].pk,
            "product_id": canteen.pk,
            "dates": ["2028-06-01"],
            "consent_note": "x",
        },
    )
    assert far.status_code == 409
    assert far.json()["error"]["code"] == "day_closed"
    with in_commune(commune_a):
        assert not Reservation.objects.exists()


@pytest.mark.parametrize("query", ["?mois=9999-12", "?mois=0001-01", "?mois=1-1"])
def test_calendar_page_survives_absurd_months(frozen, client, parent, canteen, query):
    client.force_login(parent)
    assert client.get(f"/c/commune-a/reserver/{canteen.pk}/{query}").status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_headcount_page_and_api_survive_absurd_dates(frozen, client, agent, day):
    client.force_login(agent)
    # The kitchen list says what is wrong with the date (in French), rather than guessing.
    page = client.get(f"/c/commune-a/gestion/effectifs/?date={day}")
    assert page.status_code == 400 and "Date attendue au format AAAA-MM-JJ" in page.content.decode()
    assert client_for(agent).get(f"{BASE}/staff/headcount", {"date": day}).status_code == 400
