"""Booking on a family's behalf from its file (the "cagnotte", guide step 7): refused without
the family's consent (standing, or noted by the agent) and without funds, nothing changed; the
meal variant saved; the parent sees "Réservé par la mairie"."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command

from shared_apps.audit.models import AuditEntry
from shared_apps.families.models import FamilyCommune
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Order, Reservation
from tenant_apps.catalog.models import MealVariant
from tests.fixtures.bookings import make_family
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

PAGE = "/c/commune-a/gestion/familles/"
API = "/c/commune-a/api/v1/staff/reservations"
CONSENTS = "/famille/accord-mairie/"


def _balance(family_id):
    return sum(p.balance_cents for p in pockets_of(family_id))


def _reservations(commune, in_commune):
    with in_commune(commune):
        return list(Reservation.objects.values_list("child_id", "date", "variant_id", "status"))


def _give_consent(client, parent, commune):
    client.force_login(parent)
    response = client.post(CONSENTS, {"commune_id": commune.pk, "consent": "1"})
    assert response.status_code == 302
    client.logout()


def _book(client, agent, parent, canteen, **extra):
    client.force_login(agent)
    data = {
        "child_id": parent.kids[0].pk,
        "product_id": canteen.pk,
        "dates": "07/12/2026",
        "consent_note": "",
        "variant_id": "",
        **extra,
    }
    return client.post(f"{PAGE}{parent.family.pk}/reserver/", data)


def test_refused_without_consent_nothing_changed(
    frozen, client, agent, parent, canteen, commune_a, in_commune
):
    response = _book(client, agent, parent, canteen)
    assert response.status_code == 200
    assert "accord permanent" in response.content.decode()
    assert _balance(parent.family.pk) == 10_000
    assert _reservations(commune_a, in_commune) == []
    api = client_for(agent).post(
        API,
        {"child_id": parent.kids[0].pk, "product_id": canteen.pk, "dates": ["2026-12-07"]},
    )
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "consent_required"
    assert "consent_note" in api.json()["error"]["fields"]
    assert _reservations(commune_a, in_commune) == []
    assert not AuditEntry.objects.filter(action="booking.on_behalf").exists()


def test_refused_without_funds_says_balance_and_missing_amount(
    frozen, client, agent, commune_a, in_commune, canteen
):
    poor = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    _give_consent(client, poor, commune_a)
    response = _book(client, agent, poor, canteen, dates="07/12/2026, 08/12/2026")
    page = response.content.decode()
    assert response.status_code == 200
    assert "5,00\u00a0€ disponibles" in page and "7,60\u00a0€ nécessaires" in page
    assert "il manque 2,60\u00a0€" in page
    assert _balance(poor.family.pk) == 500
    assert _reservations(commune_a, in_commune) == []
    with in_commune(commune_a):
        assert not Order.objects.exists()
    api = client_for(agent).post(
        API,
        {
            "child_id": poor.kids[0].pk,
            "product_id": canteen.pk,
            "dates": ["2026-12-07", "2026-12-08"],
        },
    )
    assert api.status_code == 409
    assert api.json()["error"]["code"] == "insufficient_balance"
    assert "il manque 2,60" in api.json()["error"]["message"]
    assert _balance(poor.family.pk) == 500
    assert _reservations(commune_a, in_commune) == []


def test_accepted_with_standing_consent(
    frozen, client, agent, parent, canteen, commune_a, in_commune, send_mail_now
):
    _give_consent(client, parent, commune_a)
    with send_mail_now():
        response = _book(client, agent, parent, canteen)
    assert response.status_code == 302
    assert response["Location"].endswith(f"{PAGE}{parent.family.pk}/#reservations")
    assert _balance(parent.family.pk) == 10_000 - 380
    with in_commune(commune_a):
        order = Order.objects.get()
        assert order.on_behalf and order.consent_note == "" and order.placed_by_id == agent.pk
    entry = AuditEntry.objects.get(action="booking.on_behalf")
    assert entry.details["consent"] == "standing" and entry.family_id == parent.family.pk
    call_command("verify_ledger")


def test_accepted_with_the_agents_note(
    frozen, client, agent, parent, canteen, commune_a, in_commune
):
    response = _book(client, agent, parent, canteen, consent_note="M. Martin au guichet, 8 h")
    assert response.status_code == 302
    with in_commune(commune_a):
        assert Order.objects.get().consent_note == "M. Martin au guichet, 8 h"
    assert AuditEntry.objects.get(action="booking.on_behalf").details["consent"] == "note"
    # The note shows on the family's file.
    assert "M. Martin au guichet, 8 h" in client.get(f"{PAGE}{parent.family.pk}/").content.decode()


def test_revoked_consent_requires_a_note_again(
    frozen, client, agent, parent, canteen, commune_a, in_commune
):
    _give_consent(client, parent, commune_a)
    client.force_login(parent)
    client.post(CONSENTS, {"commune_id": commune_a.pk, "consent": "0"})
    link = FamilyCommune.objects.get(family=parent.family, commune=commune_a)
    assert link.booking_consent_at is None
    assert _book(client, agent, parent, canteen).status_code == 200
    assert _reservations(commune_a, in_commune) == []


def test_the_meal_variant_is_saved_and_required_when_offered(
    frozen, client, agent, parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):
        MealVariant.objects.create(product=canteen, name="Standard")
        pai = MealVariant.objects.create(product=canteen, name="PAI (panier repas)")
    note = {"consent_note": "Mme au téléphone"}
    missing = _book(client, agent, parent, canteen, **note)
    assert missing.status_code == 200 and "Choisissez le repas" in missing.content.decode()
    assert _reservations(commune_a, in_commune) == []
    form = client.get(f"{PAGE}{parent.family.pk}/reserver/").content.decode()
    assert "PAI (panier repas)" in form
    assert _book(client, agent, parent, canteen, variant_id=pai.pk, **note).status_code == 302
    assert _reservations(commune_a, in_commune) == [
        (parent.kids[0].pk, datetime.date(2026, 12, 7), pai.pk, "booked")
    ]
    # "Standard" is a choice too (variant 0): the place has no variant, on purpose.
    standard = client_for(agent).post(
        API,
        {
            "child_id": parent.kids[1].pk,
            "product_id": canteen.pk,
            "dates": ["2026-12-07"],
            "variant_id": 0,
            **note,
        },
        format="json",
    )
    assert standard.status_code == 201, standard.json()
    assert (parent.kids[1].pk, datetime.date(2026, 12, 7), None, "booked") in _reservations(
        commune_a, in_commune
    )
    # Another product's variant is refused through the API.
    with in_commune(commune_a):
        other = MealVariant.objects.create(
            product=canteen.__class__.objects.create(
                service=canteen.service, name="Goûter", price_cents=100
            ),
            name="Sans gluten",
        )
    api = client_for(agent).post(
        API,
        {
            "child_id": parent.kids[1].pk,
            "product_id": canteen.pk,
            "dates": ["2026-12-08"],
            "variant_id": other.pk,
            **note,
        },
        format="json",
    )
    assert api.status_code == 400 and "variant_id" in api.json()["error"]["fields"]


def test_a_child_of_another_family_cannot_be_booked_from_this_file(
    frozen, client, agent, parent, canteen, commune_a, in_commune
):
    other = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    client.force_login(agent)
    response = client.post(
        f"{PAGE}{parent.family.pk}/reserver/",
        {
            "child_id": other.kids[0].pk,
            "product_id": canteen.pk,
            "dates": "07/12/2026",
            "consent_note": "x",
        },
    )
    assert response.status_code == 200  # not one of the choices offered
    assert _reservations(commune_a, in_commune) == []


def test_the_parent_sees_booked_by_the_town_hall(
    frozen, client, agent, parent, canteen, commune_a, in_commune
):
    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[1].pk], "dates": ["2026-12-10"]},
    )
    assert (
        parent.api.post(
            "/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"}
        ).status_code
        == 201
    )
    assert _book(client, agent, parent, canteen, consent_note="Par téléphone").status_code == 302
    client.force_login(parent)
    mine = client.get("/c/commune-a/mes-reservations/").content.decode()
    assert mine.count("Réservé par la mairie") == 1
    assert "Réservé par la mairie" in client.get("/mon-espace/").content.decode()
    rows = parent.api.get("/c/commune-a/api/v1/reservations").json()["results"]
    assert sorted((r["date"], r["booked_by"]) for r in rows) == [
        ("2026-12-07", "commune"),
        ("2026-12-10", "parent"),
    ]
    everywhere = parent.api.get("/api/v1/reservations").json()["results"]
    assert {r["booked_by"] for r in everywhere} == {"commune", "parent"}


def test_the_former_address_still_books(
    frozen, client, agent, parent, canteen, commune_a, in_commune
):
    client.force_login(agent)
    assert client.get("/c/commune-a/gestion/reserver-pour/").status_code == 200
    redirect = client.get("/c/commune-a/gestion/reserver-pour/", {"famille": parent.family.pk})
    assert redirect["Location"].endswith(f"{PAGE}{parent.family.pk}/reserver/")
    response = client.post(
        "/c/commune-a/gestion/reserver-pour/",
        {
            "child_id": parent.kids[0].pk,
            "product_id": canteen.pk,
            "dates": "07/12/2026",
            "consent_note": "Au guichet",
        },
    )
    assert response.status_code == 302
    assert _balance(parent.family.pk) == 10_000 - 380
