"""An outside tester's attacks on the commune back-office (issue 12): each test is a defect
that was found by a real request, kept so that it stays fixed."""

from __future__ import annotations

import io

import pytest

from shared_apps.families.models import Child
from tenant_apps.bookings.models import Reservation
from tests.backoffice.attendance_helpers import make_agent
from tests.fixtures.bookings import make_family

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a"


@pytest.fixture
def agent(commune_a):
    return make_agent(commune_a)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_the_former_booking_page_with_a_negative_family_is_a_404_not_a_500(agent_client):
    # /gestion/reserver-pour/?famille=-5 redirected to a path the resolver cannot build.
    for junk in ("-5", "-123", "9" * 30, "abc"):
        response = agent_client.get(f"{BASE}/gestion/reserver-pour/", {"famille": junk})
        assert response.status_code == 200  # not a family id: the page without a family


def test_a_child_name_with_control_characters_does_not_break_the_xlsx_lists(
    frozen, commune_a, in_commune, canteen, agent_client
):
    # A parent typed a name/notes with a control character (pasted from a PDF): the page shows
    # it, and the kitchen's XLSX must download too (openpyxl refuses such characters).
    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1_000)
    Child.objects.filter(pk=family.kids[0].pk).update(
        first_name="=Lou\x0b", notes="PAI\x01 arachide\x1b"
    )
    added = family.api.post(
        f"{BASE}/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [family.kids[0].pk], "dates": ["2026-12-07"]},
        format="json",
    )
    assert added.status_code == 201
    assert (
        family.api.post(f"{BASE}/api/v1/cart/checkout", {"payment_method": "wallet"}).status_code
        == 201
    )
    response = agent_client.get(f"{BASE}/gestion/effectifs/effectifs.xlsx", {"date": "2026-12-07"})
    assert response.status_code == 200
    from openpyxl import load_workbook

    children = list(load_workbook(io.BytesIO(response.content))["Enfants"].values)
    assert any("'=Lou" in str(cell) for row in children for cell in row)
    assert not any(str(cell).startswith("=") for row in children for cell in row)


def test_booking_on_behalf_refuses_a_child_taken_off_the_familys_list(
    frozen, commune_a, in_commune, canteen, agent
):
    # The parent removed the child from the family's list (it left); the agent's booking form
    # must not book (and debit) a day for it, as the parent's own cart would not.
    from django.utils import timezone

    from shared_apps.wallet.selectors import pockets_of

    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1_000)
    Child.objects.filter(pk=family.kids[0].pk).update(removed_at=timezone.now())
    response = agent.api.post(
        f"{BASE}/api/v1/staff/reservations",
        {
            "child_id": family.kids[0].pk,
            "product_id": canteen.pk,
            "dates": ["2026-12-10"],
            "consent_note": "Mme X au téléphone",
        },
        format="json",
    )
    # The answer for any child not enrolled here (the same whichever the reason).
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_enrolled"
    assert sum(p.balance_cents for p in pockets_of(family.family.pk)) == 1_000
    with in_commune(commune_a):
        assert not Reservation.objects.exists()
