"""Steps 4–5 of the guide through the pages: menu → product → children → days → cart → pay;
"Mes réservations" → red cross → "OK"."""

from __future__ import annotations

import pytest

from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Reservation
from tests.factories import UserFactory
from tests.fixtures.billing import give_mandate
from tests.fixtures.bookings import make_family

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def test_book_through_the_pages_then_cancel_with_the_red_cross(
    frozen, client, parent, canteen, commune_a, in_commune
):
    client.force_login(parent)
    menu = client.get("/c/commune-a/reserver/")
    assert "Réservation repas cantine" in text(menu)

    page = client.get(f"/c/commune-a/reserver/{canteen.pk}/?mois=2026-12")
    html = text(page)
    assert "Enfant0" in html and "Enfant1" in html
    assert 'value="2026-12-07"' in html  # Monday, bookable
    assert 'value="2026-12-09"' not in html  # Wednesday, closed
    assert 'value="2026-12-04"' not in html  # Friday, deadline passed
    assert "Délai dépassé" in html and "Fermé" in html

    added = client.post(
        f"/c/commune-a/reserver/{canteen.pk}/ajouter/",
        {
            "mode": "days",
            "children": [k.pk for k in parent.kids],
            "dates": ["2026-12-07", "2026-12-08"],
        },
    )
    assert added.status_code == 302 and added.url.endswith("/panier/")
    cart = text(client.get("/c/commune-a/panier/"))
    assert "15,20\u00a0€" in cart and "Payer" in cart

    paid = client.post("/c/commune-a/panier/payer/", {"payment_method": "wallet"}, follow=True)
    assert "débités de votre porte-monnaie" in text(paid)
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000 - 1520

    mine = text(client.get("/c/commune-a/mes-reservations/"))
    assert "cancel-cross" in mine
    with in_commune(commune_a):
        reservation = Reservation.objects.filter(date="2026-12-08").first()
    confirm = text(client.get(f"/c/commune-a/mes-reservations/{reservation.pk}/annuler/"))
    assert (
        "3,80\u00a0€" in confirm
        and "seront recrédités sur votre porte-monnaie" in confirm
        and "OK" in confirm
    )
    done = client.post(f"/c/commune-a/mes-reservations/{reservation.pk}/annuler/", follow=True)
    assert "Réservation annulée. 3,80\u00a0€ sont recrédités" in text(done)


def test_after_the_deadline_the_confirmation_says_there_is_no_refund(client, parent, canteen):
    import datetime

    import time_machine

    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC), tick=False):
        client.force_login(parent)
        client.post(
            f"/c/commune-a/reserver/{canteen.pk}/ajouter/",
            {"mode": "days", "children": [parent.kids[0].pk], "dates": ["2026-12-07"]},
        )
        client.post("/c/commune-a/panier/payer/", {"payment_method": "wallet"})
    with time_machine.travel(datetime.datetime(2026, 12, 4, 9, tzinfo=datetime.UTC), tick=False):
        reservation_id = parent.api.get("/c/commune-a/api/v1/reservations").json()["results"][0][
            "id"
        ]
        page = text(client.get(f"/c/commune-a/mes-reservations/{reservation_id}/annuler/"))
    assert "Aucun remboursement ne sera fait." in page


def test_weekly_pattern_books_the_open_days_and_skips_the_others(frozen, client, parent, canteen):
    client.force_login(parent)
    response = client.post(
        f"/c/commune-a/reserver/{canteen.pk}/ajouter/",
        {
            "mode": "pattern",
            "children": [parent.kids[0].pk],
            "weekdays": ["0", "3"],
            "start": "2026-12-03",
            "end": "2026-12-31",
        },
        follow=True,
    )
    html = text(response)
    # Mondays and Thursdays of December in term time: 7, 10, 14, 17 (3 Dec is past its deadline,
    # from 21 Dec it is the Christmas holidays).
    assert "4 réservation(s) ajoutée(s) au panier" in html
    assert "ignoré" in html


def test_page_errors_are_french_and_nothing_is_added(frozen, client, parent, canteen):
    client.force_login(parent)
    response = client.post(
        f"/c/commune-a/reserver/{canteen.pk}/ajouter/",
        {"mode": "days", "children": [parent.kids[0].pk], "dates": ["2026-12-04"]},
        follow=True,
    )
    assert "Délai de réservation dépassé" in text(response)
    assert parent.api.get("/c/commune-a/api/v1/cart").json()["items"] == []


def test_someone_elses_reservation_page_is_404(frozen, client, parent, canteen):
    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": ["2026-12-07"]},
    )
    reservation_id = parent.api.post(
        "/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"}
    ).json()["reservations"][0]["id"]
    client.force_login(UserFactory())
    assert client.get(f"/c/commune-a/mes-reservations/{reservation_id}/annuler/").status_code == 404
    assert (
        client.post(f"/c/commune-a/mes-reservations/{reservation_id}/annuler/").status_code == 404
    )


def test_headcount_page_for_staff_only(frozen, client, parent, canteen, commune_a, commune_b):
    from tenants.models import Membership

    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {
            "product_id": canteen.pk,
            "child_ids": [k.pk for k in parent.kids],
            "dates": ["2026-12-07"],
        },
    )
    parent.api.post("/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"})
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    client.force_login(agent)
    page = text(client.get("/c/commune-a/gestion/effectifs/?date=2026-12-07"))
    assert "2</strong> places réservées" in page and "Enfant0" in page and "CM1" in page
    outsider = UserFactory()
    Membership.objects.create(user=outsider, commune=commune_b, role="manager")
    client.force_login(outsider)
    assert client.get("/c/commune-a/gestion/effectifs/?date=2026-12-07").status_code == 403
    client.force_login(parent)
    assert client.get("/c/commune-a/gestion/effectifs/").status_code == 403


def test_reservations_across_communes(frozen, client, parent, canteen, commune_b, in_commune):
    from shared_apps.families.services import note_commune
    from tenant_apps.catalog.models import Product, Service, ServiceKind
    from tenant_apps.enrollments.models import AccessRequest, Enrollment

    with in_commune(commune_b):
        service = Service.objects.create(
            kind=ServiceKind.GARDERIE, name="Garderie", payment_methods=["direct_debit"]
        )
        product = Product.objects.create(service=service, name="Garderie soir", price_cents=200)
        request = AccessRequest.objects.create(
            service=service, family_id=parent.family.pk, submitted_by=parent, status="accepted"
        )
        Enrollment.objects.create(
            service=service,
            child_id=parent.kids[1].pk,
            family_id=parent.family.pk,
            access_request=request,
        )
    note_commune(family_id=parent.family.pk, commune=commune_b)
    give_mandate(commune_b, parent.family.pk)  # direct debit needs a mandate with commune B
    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": ["2026-12-07"]},
    )
    parent.api.post("/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"})
    parent.api.post(
        "/c/commune-b/api/v1/cart/items",
        {"product_id": product.pk, "child_ids": [parent.kids[1].pk], "dates": ["2026-12-08"]},
    )
    assert (
        parent.api.post(
            "/c/commune-b/api/v1/cart/checkout", {"payment_method": "direct_debit"}
        ).status_code
        == 201
    )

    body = parent.api.get("/api/v1/reservations").json()
    assert [(r["commune_slug"], r["date"], r["product_name"]) for r in body["results"]] == [
        ("commune-a", "2026-12-07", "Réservation repas cantine"),
        ("commune-b", "2026-12-08", "Garderie soir"),
    ]
    client.force_login(parent)
    page = text(client.get("/reservations/"))
    assert "Commune A" in page and "Commune B" in page and "Garderie soir" in page

    stranger = make_family(commune_b, in_commune, service, children=1)
    assert stranger.api.get("/api/v1/reservations").json()["count"] == 0


def test_removing_a_child_with_upcoming_bookings_is_never_silent(
    frozen, client, parent, canteen, commune_a, in_commune
):
    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {
            "product_id": canteen.pk,
            "child_ids": [parent.kids[0].pk],
            "dates": ["2026-12-07", "2026-12-08"],
        },
    )
    parent.api.post("/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"})
    child_id = parent.kids[0].pk

    refused = parent.api.delete(f"/api/v1/family/children/{child_id}")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "child_has_future_reservations"

    client.force_login(parent)
    confirm = text(client.get(f"/famille/enfants/{child_id}/retirer/"))
    assert "2 réservations à venir" in confirm and "Commune A" in confirm

    # It is Thursday 10:00: both days are still within their cancellation deadline.
    done = parent.api.delete(f"/api/v1/family/children/{child_id}?cancel_reservations=true")
    assert done.status_code == 204
    with in_commune(commune_a):
        assert set(Reservation.objects.values_list("status", flat=True)) == {"cancelled"}
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000
    assert parent.api.get(f"/api/v1/family/children/{child_id}").status_code == 404
