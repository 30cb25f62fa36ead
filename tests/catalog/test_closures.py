"""Exceptional closures of a service: managers list, add and delete them; past days and
duplicates are refused in French and change nothing."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from shared_apps.common.validation import InvalidInput
from tenant_apps.bookings.models import Order, Reservation
from tenant_apps.catalog import services
from tenant_apps.catalog.forms import closure_fields
from tenant_apps.catalog.models import Closure, Service

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/gestion"
PARIS = datetime.timezone(datetime.timedelta(hours=1))
# Friday 27 November 2026, 10:00 in Paris.
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)
TODAY = datetime.date(2026, 11, 27)
TRAINING_DAY = datetime.date(2027, 1, 8)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _closures_url(service_id: int) -> str:
    return f"{BASE}/services/{service_id}/fermetures/"


def _delete_url(service_id: int, closure_id: int) -> str:
    return f"{BASE}/services/{service_id}/fermetures/{closure_id}/supprimer/"


def _closures(commune, in_commune) -> list[tuple[int, datetime.date, str]]:
    with in_commune(commune):
        return list(Closure.objects.order_by("date").values_list("service_id", "date", "reason"))


@pytest.fixture
def training_day_a(cantine_a, commune_a, in_commune) -> Closure:
    with in_commune(commune_a):
        return Closure.objects.create(
            service=cantine_a, date=TRAINING_DAY, reason="Journée pédagogique"
        )


# --- Pages ----------------------------------------------------------------------------------


def test_a_manager_closes_a_day_and_sees_it_listed(
    manager_client, cantine_a, commune_a, in_commune
):
    url = _closures_url(cantine_a.pk)
    assert "Aucune fermeture prévue." in manager_client.get(url).content.decode()

    response = manager_client.post(url, {"date": "2027-01-08", "reason": "Journée pédagogique"})

    assert response.status_code == 302 and response["Location"] == url
    assert _closures(commune_a, in_commune) == [(cantine_a.pk, TRAINING_DAY, "Journée pédagogique")]
    page = manager_client.get(url).content.decode()
    assert "« Cantine » sera fermé le 08/01/2027." in page
    assert '<time datetime="2027-01-08">Vendredi 8 janvier 2027</time>' in page
    assert "Journée pédagogique" in page


def test_the_service_page_lists_upcoming_closures_and_links_to_them(
    manager_client, cantine_a, training_day_a, commune_a, in_commune
):
    with in_commune(commune_a):
        Closure.objects.create(service=cantine_a, date=TODAY - datetime.timedelta(days=1))
    page = manager_client.get(f"{BASE}/services/{cantine_a.pk}/").content.decode()
    assert f'href="{_closures_url(cantine_a.pk)}"' in page
    assert "Vendredi 8 janvier 2027</time> : Journée pédagogique" in page
    assert "2026-11-26" not in page  # yesterday's is history


def test_today_can_still_be_closed(manager_client, cantine_a, commune_a, in_commune):
    response = manager_client.post(
        _closures_url(cantine_a.pk), {"date": "27/11/2026", "reason": "Grève"}
    )
    assert response.status_code == 302
    assert _closures(commune_a, in_commune) == [(cantine_a.pk, TODAY, "Grève")]


def test_today_is_the_day_in_paris(cantine_a, commune_a, in_commune):
    # 00:30 on Saturday in Paris is still Friday 23:30 in UTC: Friday is past all the same.
    with time_machine.travel(datetime.datetime(2026, 11, 27, 23, 30, tzinfo=datetime.UTC)):
        with in_commune(commune_a), pytest.raises(InvalidInput):
            services.add_closure(commune=commune_a, service=cantine_a, day=TODAY, reason="Grève")
        with in_commune(commune_a):
            services.add_closure(
                commune=commune_a,
                service=cantine_a,
                day=TODAY + datetime.timedelta(days=1),
                reason="x",
            )
    assert [date for _, date, _ in _closures(commune_a, in_commune)] == [
        datetime.date(2026, 11, 28)
    ]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"date": "2026-11-26"}, "Ce jour est déjà passé : on ne ferme qu’un jour à venir."),
        ({"date": "2020-01-06"}, "Ce jour est déjà passé"),
        ({"date": ""}, "Ce champ est obligatoire."),
        ({"date": "31/02/2027"}, "Saisissez une date valide."),
        ({"date": "demain"}, "Saisissez une date valide."),
        ({"reason": ""}, "Ce champ est obligatoire."),
        ({"reason": "x" * 201}, "au plus 200 caractères"),
    ],
)
def test_a_bad_closure_shows_a_french_error_and_saves_nothing(
    manager_client, cantine_a, commune_a, in_commune, typed, message
):
    response = manager_client.post(
        _closures_url(cantine_a.pk), {"date": "2027-01-08", "reason": "Grève", **typed}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in page and message in page
    assert _closures(commune_a, in_commune) == []


def test_a_day_already_closed_is_refused_in_french(
    manager_client, cantine_a, training_day_a, commune_a, in_commune
):
    response = manager_client.post(
        _closures_url(cantine_a.pk), {"date": "2027-01-08", "reason": "Grève"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Ce service est déjà fermé ce jour-là." in page
    assert 'href="#id_date"' in page
    assert _closures(commune_a, in_commune) == [(cantine_a.pk, TRAINING_DAY, "Journée pédagogique")]


def test_the_same_day_can_be_closed_in_two_services(
    manager_client, cantine_a, training_day_a, make_service, commune_a, in_commune
):
    garderie = make_service(commune_a, name="Garderie", kind="garderie")
    response = manager_client.post(
        _closures_url(garderie.pk), {"date": "2027-01-08", "reason": "Journée pédagogique"}
    )
    assert response.status_code == 302
    assert len(_closures(commune_a, in_commune)) == 2


def test_closing_a_day_with_bookings_cancels_and_refunds_them(
    manager_client, cantine_a, meal_a, user, commune_a, in_commune
):
    from shared_apps.families.services import get_or_create_family
    from shared_apps.wallet.selectors import pockets_of

    family = get_or_create_family(user)
    with in_commune(commune_a):
        order = Order.objects.create(
            family_id=family.pk,
            placed_by=user,
            status="paid",
            payment_method="wallet",
            amount_cents=760,
        )
        for child_id in (1, 2):
            Reservation.objects.create(
                order=order,
                family_id=family.pk,
                child_id=child_id,
                product=meal_a,
                date=TRAINING_DAY,
                price_cents=380,
                paid_by="wallet",
            )

    response = manager_client.post(
        _closures_url(cantine_a.pk), {"date": "2027-01-08", "reason": "Grève"}, follow=True
    )

    page = response.content.decode()
    assert "2 réservations de ce jour annulées, sans frais pour les familles" in page
    assert "par prélèvement, le jour ne sera pas facturé" in page  # not "remboursé" for all
    with in_commune(commune_a):
        assert set(Reservation.objects.values_list("status", flat=True)) == {"cancelled"}
    assert sum(p.balance_cents for p in pockets_of(family.pk)) == 760


def test_a_manager_reopens_a_day(manager_client, cantine_a, training_day_a, commune_a, in_commune):
    response = manager_client.post(_delete_url(cantine_a.pk, training_day_a.pk), follow=True)

    assert response.redirect_chain == [(_closures_url(cantine_a.pk), 302)]
    assert "La fermeture du 08/01/2027 est supprimée : le jour est rouvert." in (
        response.content.decode()
    )
    assert _closures(commune_a, in_commune) == []


def test_deleting_needs_a_post(manager_client, cantine_a, training_day_a, commune_a, in_commune):
    assert manager_client.get(_delete_url(cantine_a.pk, training_day_a.pk)).status_code == 405
    assert len(_closures(commune_a, in_commune)) == 1


def test_a_past_closure_stays_in_the_history(manager_client, cantine_a, commune_a, in_commune):
    with in_commune(commune_a):
        past = Closure.objects.create(service=cantine_a, date=datetime.date(2026, 11, 2))

    response = manager_client.post(_delete_url(cantine_a.pk, past.pk), follow=True)

    assert "Cette fermeture est passée : elle reste dans l’historique du service." in (
        response.content.decode()
    )
    assert len(_closures(commune_a, in_commune)) == 1


# --- Use cases ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"date": TODAY - datetime.timedelta(days=1)}, "date"),
        ({"date": "2026-11-26"}, "date"),
        ({"date": "le 8 janvier"}, "date"),
        ({"date": None}, "date"),
        ({"date": datetime.datetime(2027, 1, 8, 12)}, "date"),
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 201}, "reason"),
    ],
)
def test_a_bad_closure_is_refused(cantine_a, commune_a, in_commune, data, field):
    with in_commune(commune_a), pytest.raises(InvalidInput) as error:
        day, reason = closure_fields({"date": TRAINING_DAY, "reason": "Grève", **data})
        services.add_closure(commune=commune_a, service=cantine_a, day=day, reason=reason)
    assert field in error.value.fields
    assert _closures(commune_a, in_commune) == []


def test_a_duplicate_closure_is_a_conflict(cantine_a, training_day_a, commune_a, in_commune):
    with in_commune(commune_a), pytest.raises(services.DuplicateClosure) as error:
        day, reason = closure_fields({"date": "2027-01-08", "reason": "Grève"})
        services.add_closure(commune=commune_a, service=cantine_a, day=day, reason=reason)
    assert error.value.fields == {"date": ["Ce service est déjà fermé ce jour-là."]}


# --- Who may change them --------------------------------------------------------------------


@pytest.fixture
def closure_pages(cantine_a, training_day_a) -> list[str]:
    return [_closures_url(cantine_a.pk), _delete_url(cantine_a.pk, training_day_a.pk)]


def test_anonymous_visitors_are_sent_to_the_login_page(client, closure_pages):
    for url in closure_pages:
        response = client.post(url, {"date": "2027-01-11", "reason": "Grève"})
        assert response.status_code == 302, url
        assert response["Location"].startswith("/compte/acces/?next=/c/commune-a/gestion/")
    assert client.get(closure_pages[0]).status_code == 302


def test_an_agent_gets_403_and_changes_nothing(
    client, agent_a, closure_pages, commune_a, in_commune
):
    client.force_login(agent_a)
    for url in closure_pages:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"date": "2027-01-11", "reason": "Grève"}).status_code == 403, url
    assert [date for _, date, _ in _closures(commune_a, in_commune)] == [TRAINING_DAY]


def test_the_manager_of_b_gets_403_on_the_closures_of_a(
    client, manager_b, closure_pages, commune_a, in_commune
):
    client.force_login(manager_b)
    for url in closure_pages:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"date": "2027-01-11", "reason": "Grève"}).status_code == 403, url
    assert [date for _, date, _ in _closures(commune_a, in_commune)] == [TRAINING_DAY]


def test_ids_of_b_are_a_404_under_a(manager_client, cantine_a, commune_b, in_commune):
    with in_commune(commune_b):
        service_b = Service.objects.create(pk=987_654, kind="garderie", name="Garderie de B")
        closure_b = Closure.objects.create(pk=765_432, service=service_b, date=TRAINING_DAY)
    for url in (
        _closures_url(service_b.pk),
        _delete_url(service_b.pk, closure_b.pk),
        _delete_url(cantine_a.pk, closure_b.pk),  # A's service, B's closure
    ):
        assert (
            manager_client.post(url, {"date": "2027-01-11", "reason": "Grève"}).status_code == 404
        )
    assert manager_client.get(_closures_url(service_b.pk)).status_code == 404
    with in_commune(commune_b):
        assert list(Closure.objects.values_list("pk", flat=True)) == [closure_b.pk]


def test_a_closure_is_only_deleted_through_its_own_service(
    manager_client, training_day_a, make_service, commune_a, in_commune
):
    garderie = make_service(commune_a, name="Garderie", kind="garderie")
    assert manager_client.post(_delete_url(garderie.pk, training_day_a.pk)).status_code == 404
    assert len(_closures(commune_a, in_commune)) == 1
