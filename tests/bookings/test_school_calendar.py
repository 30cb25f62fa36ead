"""Fail closed beyond the school calendar: families cannot book, staff are told to refresh it."""

from __future__ import annotations

import json

import pytest

from tenants.calendar import SNAPSHOT_PATH
from tenants.models import Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"


@pytest.fixture
def calendar_until_mid_december(tmp_path, monkeypatch):
    """A snapshot whose zone A (commune A's) stops on Tuesday 15 December 2026."""
    data = json.loads(SNAPSHOT_PATH.read_text(encoding="utf-8"))
    zone = data["zones"]["A"]
    zone["covered_until"] = "2026-12-15"
    zone["holidays"] = [h for h in zone["holidays"] if h[1] <= "2026-12-15"]
    path = tmp_path / "school_calendar.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("MARELLE_SCHOOL_CALENDAR", str(path))


def test_days_beyond_the_school_calendar_are_closed_and_cannot_be_booked(
    frozen, parent, canteen, calendar_until_mid_december
):
    days = parent.api.get(
        f"{BASE}/calendar",
        {
            "product_id": canteen.pk,
            "child_id": parent.kids[0].pk,
            "from": "2026-12-14",
            "to": "2026-12-18",
        },
    ).json()
    state = {day["date"]: (day["status"], day["reason"]) for day in days}
    assert state["2026-12-14"] == ("bookable", "")
    assert state["2026-12-15"] == ("bookable", "")
    assert state["2026-12-17"] == ("closed", "Calendrier scolaire pas encore publié")
    assert state["2026-12-18"] == ("closed", "Calendrier scolaire pas encore publié")

    response = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": ["2026-12-17"]},
    )
    assert response.status_code == 409  # DayClosed
    assert response.json()["error"]["fields"]["dates"] == ["2026-12-17"]


def test_closed_days_say_why(frozen, parent, canteen):
    days = parent.api.get(
        f"{BASE}/calendar",
        {
            "product_id": canteen.pk,
            "child_id": parent.kids[0].pk,
            "from": "2026-12-21",
            "to": "2026-12-25",
        },
    ).json()
    reasons = {day["date"]: day["reason"] for day in days}
    assert reasons["2026-12-21"] == "Vacances de Noël"
    assert reasons["2026-12-25"] == "Jour férié (Jour de Noël)"


def test_staff_see_that_the_school_calendar_needs_updating(
    frozen, client, commune_a, calendar_until_mid_december
):
    client.force_login(MembershipFactory(commune=commune_a, role=Role.AGENT).user)
    page = client.get("/c/commune-a/gestion/").content.decode()
    assert "Calendrier scolaire à mettre à jour" in page
    assert "15/12/2026" in page
    assert "python manage.py refresh_school_calendar" in page


def test_staff_see_no_warning_while_the_school_calendar_is_known(frozen, client, commune_a):
    client.force_login(MembershipFactory(commune=commune_a, role=Role.AGENT).user)
    page = client.get("/c/commune-a/gestion/").content.decode()
    assert "Calendrier scolaire à mettre à jour" not in page
