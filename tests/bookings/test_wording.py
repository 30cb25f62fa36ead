"""What the pages and the API tell parents and agents about cancelling and closed days: the
truth per payment method (issue 9, faults 17 and 18)."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Reservation
from tenant_apps.catalog.models import Closure, Product
from tenants.models import Commune, Membership
from tests.factories import UserFactory
from tests.fixtures.billing import give_mandate
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"
TUE, WED, MON_21, FRI_25 = "2026-12-08", "2026-12-09", "2026-12-21", "2026-12-25"
BEFORE_DEADLINE = datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC)
AFTER_DEADLINE = datetime.datetime(2026, 12, 4, 12, tzinfo=datetime.UTC)  # for Tuesday 8th


def text(response) -> str:
    return response.content.decode()


def _book(parent, canteen, payment_method: str, day: str = TUE) -> int:
    if payment_method == "direct_debit":  # offered only with an active SEPA mandate
        give_mandate(Commune.objects.get(slug="commune-a"), parent.family.pk)
    parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": [day]},
    )
    body = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": payment_method}).json()
    return body["reservations"][0]["id"]


def _cancel_page(client, reservation_id: int) -> str:
    return text(client.get(f"/c/commune-a/mes-reservations/{reservation_id}/annuler/"))


def _press_ok(client, reservation_id: int) -> str:
    return text(
        client.post(f"/c/commune-a/mes-reservations/{reservation_id}/annuler/", follow=True)
    )


# --- Fault 17: the refund sentence, per payment method ---------------------------------------


def test_cancelling_a_direct_debit_day_says_it_will_not_be_invoiced(
    frozen, client, parent, canteen
):
    reservation_id = _book(parent, canteen, "direct_debit")
    client.force_login(parent)

    confirm = _cancel_page(client, reservation_id)
    assert "Vous êtes dans les délais. Ce jour ne sera pas facturé." in confirm
    assert "recrédité" not in confirm and "porte-monnaie" not in confirm.split("<main")[-1]

    done = _press_ok(client, reservation_id)
    assert "Réservation annulée. Ce jour ne sera pas facturé." in done
    assert "recrédité" not in done
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000  # untouched


def test_the_api_says_a_cancelled_direct_debit_day_is_not_invoiced(frozen, parent, canteen):
    reservation_id = _book(parent, canteen, "direct_debit")
    body = parent.api.post(f"{BASE}/reservations/{reservation_id}/cancel").json()
    assert body == {
        "refund_cents": 380,
        "pocket": "invoice",
        "message": "Réservation annulée. Ce jour ne sera pas facturé.",
    }


def test_a_late_direct_debit_cancellation_invoices_only_the_late_share(
    client, parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(late_cancellation_refund_percent=50)
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        reservation_id = _book(parent, canteen, "direct_debit")
    client.force_login(parent)
    with time_machine.travel(AFTER_DEADLINE, tick=False):
        confirm = _cancel_page(client, reservation_id)
        assert "Le délai d’annulation est dépassé" in confirm
        assert "Seule la part due pour l’annulation tardive sera facturée : 1,90\u00a0€." in confirm
        assert "recrédité" not in confirm
        message = parent.api.post(f"{BASE}/reservations/{reservation_id}/cancel").json()["message"]
    assert message == (
        "Réservation annulée. Seule la part due pour l’annulation tardive sera facturée : "
        "1,90\u00a0€."
    )


def test_a_late_wallet_cancellation_says_only_the_share_goes_back_to_the_pocket(
    client, parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(late_cancellation_refund_percent=50)
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        reservation_id = _book(parent, canteen, "wallet")
    client.force_login(parent)
    with time_machine.travel(AFTER_DEADLINE, tick=False):
        confirm = _cancel_page(client, reservation_id)
        done = _press_ok(client, reservation_id)
    assert (
        "Seul 1,90\u00a0€ sera recrédité sur votre porte-monnaie, pour le service « Cantine »."
        in confirm
    )
    assert (
        "Réservation annulée. Seul 1,90\u00a0€ est recrédité sur votre porte-monnaie, "
        "pour le service « Cantine »." in done
    )


def test_cancelling_a_wallet_day_in_time_says_it_goes_back_to_the_services_pocket(
    frozen, client, parent, canteen
):
    reservation_id = _book(parent, canteen, "wallet")
    client.force_login(parent)
    assert (
        "Vous êtes dans les délais. 3,80\u00a0€ seront recrédités sur votre porte-monnaie, "
        "pour le service « Cantine »." in _cancel_page(client, reservation_id)
    )
    assert (
        "Réservation annulée. 3,80\u00a0€ sont recrédités sur votre porte-monnaie, pour le "
        "service « Cantine »." in _press_ok(client, reservation_id)
    )


# --- Fault 18: an already cancelled day is said to be cancelled, not late ---------------------


def test_an_already_cancelled_day_says_so_on_the_page_and_after_ok(frozen, client, parent, canteen):
    reservation_id = _book(parent, canteen, "wallet")
    client.force_login(parent)
    _press_ok(client, reservation_id)

    again = _cancel_page(client, reservation_id)
    assert "Cette réservation est déjà annulée." in again
    assert "délai" not in again and ">OK<" not in again

    after_ok = _press_ok(client, reservation_id)
    assert "Cette réservation est déjà annulée." in after_ok
    assert "délai" not in after_ok


def test_the_api_says_an_already_cancelled_day_is_already_cancelled(frozen, parent, canteen):
    reservation_id = _book(parent, canteen, "wallet")
    parent.api.post(f"{BASE}/reservations/{reservation_id}/cancel")
    response = parent.api.post(f"{BASE}/reservations/{reservation_id}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_cancellable"
    assert response.json()["error"]["message"] == "Cette réservation est déjà annulée."


def test_a_day_past_its_deadline_still_says_the_deadline_has_passed(
    client, parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(late_cancellation_refund_percent=None)
    with time_machine.travel(BEFORE_DEADLINE, tick=False):
        reservation_id = _book(parent, canteen, "wallet")
    client.force_login(parent)
    with time_machine.travel(AFTER_DEADLINE, tick=False):
        page = _cancel_page(client, reservation_id)
        response = parent.api.post(f"{BASE}/reservations/{reservation_id}/cancel")
    expected = (
        "Cette réservation ne peut plus être annulée : le délai d’annulation est dépassé "
        "(limite : vendredi 04/12 à 12:00)."
    )
    assert expected in page
    assert response.json()["error"]["message"] == expected


# --- Fault 18: "Réserver pour une famille" says why a day is closed ---------------------------


@pytest.fixture
def agent(commune_a):
    user = UserFactory()
    Membership.objects.create(user=user, commune=commune_a, role="agent")
    return user


def _book_on_behalf_page(client, parent, canteen, dates: str) -> str:
    return text(
        client.post(
            "/c/commune-a/gestion/reserver-pour/",
            {
                "child_id": parent.kids[0].pk,
                "product_id": canteen.pk,
                "dates": dates,
                "consent_note": "Mme Martin, au téléphone",
            },
        )
    )


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (WED, "pas d’accueil le mercredi : mercredi 09/12"),
        (MON_21, "Vacances de Noël : lundi 21/12"),
        (FRI_25, "Jour férié (Jour de Noël) : vendredi 25/12"),
    ],
)
def test_the_agent_is_told_why_a_day_is_closed(
    frozen, client, agent, parent, canteen, commune_a, in_commune, day, reason
):
    client.force_login(agent)
    page = _book_on_behalf_page(client, parent, canteen, day)
    assert f"Jour fermé — {reason}." in page
    with in_commune(commune_a):
        assert not Reservation.objects.exists()


def test_the_agent_is_told_the_reason_of_a_closure_and_of_each_closed_day(
    frozen, client, agent, parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):
        Closure.objects.create(
            service=canteen.service, date=datetime.date(2026, 12, 10), reason="Grève."
        )
    client.force_login(agent)
    page = _book_on_behalf_page(client, parent, canteen, "2026-12-09, 2026-12-10, 2026-12-16")
    assert (
        "Jour fermé — pas d’accueil le mercredi : mercredi 09/12, mercredi 16/12 ; "
        "fermeture du service : Grève : jeudi 10/12." in page
    )


def test_the_agent_is_told_a_day_is_past(frozen, client, agent, parent, canteen):
    client.force_login(agent)
    assert "Jour passé : mardi 01/12." in _book_on_behalf_page(
        client, parent, canteen, "01/12/2026"
    )


def test_the_staff_api_says_why_a_day_is_closed(frozen, agent, parent, canteen):
    response = client_for(agent).post(
        f"{BASE}/staff/reservations",
        {
            "child_id": parent.kids[0].pk,
            "product_id": canteen.pk,
            "dates": [MON_21],
            "consent_note": "Mme Martin",
        },
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "day_closed",
        "message": "Jour fermé — Vacances de Noël : lundi 21/12.",
        "fields": {"dates": [MON_21]},
    }


def test_the_parents_calendar_says_why_a_day_is_closed(frozen, client, parent, canteen):
    client.force_login(parent)
    page = text(client.get(f"/c/commune-a/reserver/{canteen.pk}/?mois=2026-12"))
    assert "Fermé : pas d’accueil le mercredi" in page
    assert "Fermé : Vacances de Noël" in page
    assert "Fermé : Jour férié (Jour de Noël)" in page  # Friday 25 December
    calendar = parent.api.get(
        f"{BASE}/calendar",
        {"product_id": canteen.pk, "child_id": parent.kids[0].pk, "from": WED, "to": WED},
    ).json()
    assert calendar[0]["status"] == "closed"
    assert calendar[0]["reason"] == "pas d’accueil le mercredi"


# --- Fault 19: place names, first names and deadlines in generated sentences -----------------


@pytest.fixture
def le_puy(commune_a):
    """Commune A renamed as a commune whose name starts with an article."""
    from tenants.models import Commune
    from tenants.selectors import forget_commune

    Commune.objects.filter(pk=commune_a.pk).update(name="Le Puy-en-Velay")
    forget_commune()
    commune_a.refresh_from_db()
    return commune_a


def test_pages_say_au_puy_and_du_puy(frozen, client, le_puy, parent, canteen):
    client.force_login(parent)
    menu = text(client.get("/c/commune-a/reserver/"))
    assert "Réserver au Puy-en-Velay" in menu and "à Le Puy" not in menu
    assert 'aria-label="Menu du Puy-en-Velay"' in menu
    mine = text(client.get("/c/commune-a/mes-reservations/"))
    assert "Mes réservations au Puy-en-Velay" in mine


def test_the_wallet_names_the_pocket_cantine_du_puy(frozen, client, le_puy, parent, canteen):
    from shared_apps.directory.services import publish_service

    publish_service(
        commune=le_puy,
        service_id=canteen.service_id,
        kind="cantine",
        name="Cantine",
        description="",
        is_active=True,
    )
    client.force_login(parent)
    wallet = text(client.get("/porte-monnaie/"))
    assert "Cantine du Puy-en-Velay" in wallet and "Cantine de Le Puy" not in wallet
    pockets = parent.api.get("/api/v1/wallet").json()["pockets"]
    assert "Cantine du Puy-en-Velay" in {p["label"] for p in pockets}


def test_a_childs_name_is_elided_on_my_reservations(
    frozen, client, parent, canteen, commune_a, in_commune
):
    from shared_apps.families.models import Child

    Child.objects.filter(pk=parent.kids[0].pk).update(first_name="Inès")
    _book(parent, canteen, "wallet")
    client.force_login(parent)
    mine = text(client.get("/c/commune-a/mes-reservations/"))
    assert "Annuler Réservation repas cantine d’Inès le 8 décembre" in mine
    assert "de Inès" not in mine


def test_the_booking_rules_read_jusquau_not_jusqua_le(
    frozen, client, parent, canteen, commune_a, in_commune
):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(
            booking_deadline_kind="weekday_before", booking_deadline_weekday=3
        )
    client.force_login(parent)
    page = text(client.get(f"/c/commune-a/reserver/{canteen.pk}/?mois=2027-04"))
    assert "jusqu’au jeudi de la semaine précédente avant 12 h 00" in page
    assert "jusqu’à 2 jours ouvrés avant, avant 12 h 00" in page  # the cancellation rule
    assert "jusqu’à le" not in page
    assert "Calendrier d’avril 2027" in page


def test_access_emails_say_du_puy(le_puy, in_commune):
    from django.core import mail

    from shared_apps.notifications.email import send_templated_email

    with in_commune(le_puy):
        send_templated_email(
            to="parent@example.org",
            template="access_accepted",
            context={
                "commune": le_puy,
                "request": type("R", (), {"service": type("S", (), {"name": "Cantine"})})(),
                "children": [],
                "link": "https://example.org",
            },
        )
    sent = mail.outbox[-1]
    assert sent.subject == "Demande acceptée : Cantine du Puy-en-Velay"
    assert "« Cantine » du Puy-en-Velay" in sent.body


def test_my_reservations_says_a_cancelled_direct_debit_day_was_not_invoiced(
    frozen, client, parent, canteen
):
    reservation_id = _book(parent, canteen, "direct_debit")
    parent.api.post(f"{BASE}/reservations/{reservation_id}/cancel")
    client.force_login(parent)
    mine = text(client.get("/c/commune-a/mes-reservations/"))
    assert "Annulé (3,80\u00a0€ non facturés)" in mine
    assert "remboursé" not in mine
