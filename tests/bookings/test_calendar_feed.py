"""The family's calendar feed (/calendrier/<token>.ics): what it lists, who can read it, its reset."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from shared_apps.audit.models import AuditEntry
from shared_apps.families.services import get_or_create_family
from shared_apps.wallet.services import credit_top_up
from tenant_apps.bookings.calendar_feed import event_title
from tenant_apps.catalog.models import OpeningPeriod, Product, Service, ServiceKind
from tenant_apps.enrollments.models import AccessRequest, Enrollment
from tests.fixtures.bookings import make_family

pytestmark = pytest.mark.django_db

MON, TUE, THU, FRI = "2026-12-07", "2026-12-08", "2026-12-10", "2026-12-11"


def book(parent, commune, product, dates, children=None) -> list[int]:
    """Book and pay from the wallet as the parent's API client does; the reservations' ids."""
    base = f"/c/{commune.slug}/api/v1"
    added = parent.api.post(
        f"{base}/cart/items",
        {
            "product_id": product.pk,
            "child_ids": [k.pk for k in (children or parent.kids)],
            "dates": dates,
        },
    )
    assert added.status_code == 201, added.json()
    paid = parent.api.post(f"{base}/cart/checkout", {"payment_method": "wallet"})
    assert paid.status_code == 201, paid.json()
    return [r["id"] for r in paid.json()["reservations"]]


@pytest.fixture
def garderie_b(commune_b, in_commune):
    """Commune B's morning garderie, open every weekday."""
    with in_commune(commune_b):
        service = Service.objects.create(
            kind=ServiceKind.GARDERIE, name="Garderie", payment_methods=["wallet"]
        )
        product = Product.objects.create(
            service=service,
            name="Garderie matin",
            price_cents=150,
            weekdays=[0, 1, 2, 3, 4],
            opening_period=OpeningPeriod.SCHOOL_DAYS,
        )
    product.service = service
    return product


def enrol(parent, commune, in_commune, service, *, funds_cents=10_000) -> None:
    """Enrol an existing family's children in another commune's service, with funds there."""
    from shared_apps.families.services import note_commune

    note_commune(family_id=parent.family.pk, commune=commune)
    with in_commune(commune):
        request = AccessRequest.objects.create(
            service=service, family_id=parent.family.pk, submitted_by=parent, status="accepted"
        )
        for kid in parent.kids:
            Enrollment.objects.create(
                service=service, child_id=kid.pk, family_id=parent.family.pk, access_request=request
            )
    credit_top_up(
        source_key=f"seed:{parent.family.pk}:{commune.pk}",
        family_id=parent.family.pk,
        amount_cents=funds_cents,
        commune=commune,
        service_id=service.pk,
    )


def feed_url(parent) -> str:
    response = parent.api.get("/api/v1/family/calendar-feed")
    assert response.status_code == 200, response.json()
    return response.json()["url"]


def fetch(url: str):
    """The feed as a calendar application fetches it: no session, no token header."""
    return Client().get(url.removeprefix("http://localhost:8000"))


def events(response) -> list:
    assert response.status_code == 200
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def test_feed_lists_exactly_the_familys_live_bookings_in_every_commune(
    frozen, parent, canteen, garderie_b, commune_a, commune_b, in_commune
):
    lea, hugo = parent.kids
    enrol(parent, commune_b, in_commune, garderie_b.service)
    cancelled, *_ = book(parent, commune_a, canteen, [MON, TUE])
    book(parent, commune_b, garderie_b, [THU], children=[hugo])
    assert (
        parent.api.post(f"/c/commune-a/api/v1/reservations/{cancelled}/cancel").status_code == 200
    )
    other = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    book(other, commune_a, canteen, [MON, FRI])

    listed = events(fetch(feed_url(parent)))

    got = sorted(
        (e.decoded("dtstart"), e.decoded("dtend"), str(e["summary"]), str(e["location"]))
        for e in listed
    )
    day = datetime.date.fromisoformat
    canteen_days = [(day(MON), lea), (day(MON), hugo), (day(TUE), lea), (day(TUE), hugo)]
    with in_commune(commune_a):
        from tenant_apps.bookings.models import Reservation

        cancelled_row = Reservation.objects.get(pk=cancelled)
    canteen_days.remove(
        (cancelled_row.date, next(k for k in parent.kids if k.pk == cancelled_row.child_id))
    )
    expected = sorted(
        [
            (d, d + datetime.timedelta(days=1), f"Cantine — {kid.first_name}", "Commune A")
            for d, kid in canteen_days
        ]
        + [(day(THU), day(FRI), f"Garderie matin — {hugo.first_name}", "Commune B")]
    )
    assert got == expected
    assert len({str(e["uid"]) for e in listed}) == len(listed) == 4
    assert all(isinstance(e.decoded("dtstart"), datetime.date) for e in listed)  # all-day
    assert all(e.get("dtstamp") for e in listed)


def test_feed_answers_as_a_calendar_that_no_shared_cache_keeps(frozen, parent, canteen, commune_a):
    book(parent, commune_a, canteen, [MON])

    response = fetch(feed_url(parent))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["version"]) == "2.0" and calendar.get("prodid")
    assert "sessionid" not in response.cookies


def test_each_reservation_keeps_its_uid_from_one_fetch_to_the_next(
    frozen, parent, canteen, commune_a
):
    book(parent, commune_a, canteen, [MON, TUE])
    url = feed_url(parent)

    first = {str(e["uid"]) for e in events(fetch(url))}
    book(parent, commune_a, canteen, [THU])
    second = {str(e["uid"]) for e in events(fetch(url))}

    assert len(first) == 4 and first < second and len(second) == 6


def test_a_family_without_bookings_gets_an_empty_calendar(parent):
    assert events(fetch(feed_url(parent))) == []


@pytest.mark.parametrize(
    "token",
    [
        "Yq3tBmDx0_Kp7vWcN2sLhR8aFe5uJiZo-4gT1nXbQ6E",  # well formed, nobody's
        "x",
        "A" * 43,
        "a" * 200,
        "..%2F..%2Fetc",
    ],
    ids=["well-formed", "short", "one-letter", "long", "traversal"],
)
def test_a_token_that_is_nobodys_is_404(parent, token):
    feed_url(parent)  # the family has a token: none of these is it
    assert Client().get(f"/calendrier/{token}.ics").status_code == 404


def test_another_familys_token_cannot_be_derived_from_ones_own(
    frozen, parent, canteen, commune_a, in_commune
):
    other = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    book(other, commune_a, canteen, [MON])
    mine = feed_url(parent).rsplit("/", 1)[1].removesuffix(".ics")
    theirs = feed_url(other).rsplit("/", 1)[1].removesuffix(".ics")

    assert len(mine) == len(theirs) == 43 and mine != theirs
    # One character off is another address: nothing partial matches.
    near = mine[:-1] + ("A" if mine[-1] != "A" else "B")
    assert Client().get(f"/calendrier/{near}.ics").status_code == 404
    assert events(fetch(feed_url(parent))) == []  # and mine shows nothing of theirs


def test_resetting_through_the_api_stops_the_old_address_at_once(parent):
    old = feed_url(parent)
    assert fetch(old).status_code == 200
    assert feed_url(parent) == old  # the same until reset

    reset = parent.api.post("/api/v1/family/calendar-feed")

    assert reset.status_code == 200
    new = reset.json()["url"]
    assert new != old and reset.json()["webcal_url"] == "webcal://" + new.split("://", 1)[1]
    assert fetch(old).status_code == 404
    assert fetch(new).status_code == 200
    assert feed_url(parent) == new
    entry = AuditEntry.objects.get(action="family.calendar_feed_reset")
    assert (entry.actor_id, entry.family_id) == (parent.pk, parent.family.pk)


def test_the_api_asks_who_you_are(api):
    assert api.get("/api/v1/family/calendar-feed").status_code == 401
    assert api.post("/api/v1/family/calendar-feed").status_code == 401


def test_my_reservations_page_shows_the_address_and_resets_it(parent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(parent)
    url = feed_url(parent)

    page = client.get("/reservations/")

    html = page.content.decode()
    assert url in html and "webcal://" + url.split("://", 1)[1] in html
    assert "Copier" in html and 'name="csrfmiddlewaretoken"' in html
    assert client.post("/famille/calendrier/nouvelle-adresse/").status_code == 403  # no CSRF
    assert fetch(url).status_code == 200

    csrf = page.cookies["csrftoken"].value
    reset = client.post("/famille/calendrier/nouvelle-adresse/", HTTP_X_CSRFTOKEN=csrf)

    assert reset.status_code == 302 and reset["Location"] == "/reservations/#calendrier"
    assert fetch(url).status_code == 404
    new = feed_url(parent)
    assert new != url and new in client.get("/reservations/").content.decode()


def test_the_page_offers_no_feed_before_the_family_deals_with_a_commune(db):
    from tests.factories import UserFactory

    user = UserFactory()
    client = Client()
    client.force_login(user)
    assert "Abonnement" not in client.get("/reservations/").content.decode()
    get_or_create_family(user)
    assert "Abonnement" not in client.get("/reservations/").content.decode()


def test_the_feeds_queries_do_not_grow_with_bookings(
    frozen, canteen, garderie_b, commune_a, commune_b, in_commune
):
    small = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=10_000)
    big = make_family(commune_a, in_commune, canteen.service, children=3, funds_cents=50_000)
    enrol(small, commune_b, in_commune, garderie_b.service)
    enrol(big, commune_b, in_commune, garderie_b.service)
    book(small, commune_a, canteen, [MON])
    book(big, commune_a, canteen, [MON, TUE, THU, FRI])
    book(big, commune_b, garderie_b, [MON, TUE, THU, FRI])

    seen: list = []

    def queries(parent) -> tuple[int, int]:
        url = feed_url(parent).removeprefix("http://localhost:8000")
        with CaptureQueriesContext(connection) as context:
            response = Client().get(url)
        seen[:] = context.captured_queries
        return len(context.captured_queries), len(events(response))

    one, one_event = queries(small)
    many, many_events = queries(big)
    assert (one_event, many_events) == (1, 24)
    # The family by its token, its communes, then per commune (two here) the switch of schema
    # and one read: bounded by the communes the family deals with, never by its bookings.
    assert one == many == 2 + 2 * 2, (one, many, [q["sql"][:40] for q in seen])


def test_event_titles_name_the_service_or_the_part_of_it_booked():
    assert (
        event_title(
            service_name="Cantine", product_name="Réservation repas cantine", first_name="Léa"
        )
        == "Cantine — Léa"
    )
    assert (
        event_title(service_name="Garderie", product_name="Garderie soir", first_name="Hugo")
        == "Garderie soir — Hugo"
    )
