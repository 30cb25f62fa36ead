"""The staff dashboard: its figures equal the commune's data, only this commune's, in a fixed
number of queries; the page and the staff API show the same."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shared_apps.audit.models import AuditEntry
from shared_apps.families.services import add_child, get_or_create_family
from shared_apps.wallet.services import credit_top_up
from tenant_apps.bookings.models import Order, Reservation
from tenant_apps.catalog.models import DocumentType, MealVariant, Product, Service, ServiceKind
from tenant_apps.enrollments.models import AccessRequest, AccessRequestChild, RequestStatus
from tests.factories import UserFactory
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 3)  # the `frozen` fixture: Thursday 3 December 2026, 10:00
TOMORROW = TODAY + datetime.timedelta(days=1)
_seq = itertools.count()


def _family():
    """A parent with one child (public schema): (user, family id, child)."""
    user = UserFactory()
    child = add_child(
        user=user,
        data={
            "last_name": user.last_name,
            "first_name": f"Enfant{next(_seq)}",
            "birth_date": "2017-05-04",
            "relation": "father",
            "school_class": "CE2",
        },
    )
    return user, get_or_create_family(user).pk, child


def _request(service, user, family_id, child, status=RequestStatus.ACCEPTED, created_at=None):
    request = AccessRequest.objects.create(
        service=service, family_id=family_id, submitted_by_id=user.pk, status=status
    )
    AccessRequestChild.objects.create(access_request=request, child_id=child.pk)
    if created_at:
        AccessRequest.objects.filter(pk=request.pk).update(created_at=created_at)
    return request


def _book(product, user, family_id, child, day, *, variant=None, paid_by="wallet", cancelled=None):
    order = Order.objects.create(
        family_id=family_id,
        placed_by_id=user.pk,
        status="to_invoice" if paid_by == "direct_debit" else "paid",
        payment_method=paid_by,
        amount_cents=product.price_cents,
    )
    return Reservation.objects.create(
        order=order,
        family_id=family_id,
        child_id=child.pk,
        product=product,
        variant=variant,
        date=day,
        price_cents=product.price_cents,
        paid_by=paid_by,
        status="cancelled" if cancelled else "booked",
        cancelled_at=cancelled,
    )


@pytest.fixture
def manager_a(commune_a):
    from tenants.models import Membership, Role

    user = UserFactory(first_name="Régine")
    Membership.objects.create(user=user, commune=commune_a, role=Role.MANAGER)
    return user


def _fill(commune, in_commune, *, families: int, tag: str):
    """`families` families, each: an accepted request, a booking today (PAI for every third)
    and tomorrow (direct debit), a cancellation 2 days ago and one 10 days ago, a pocket of
    2 € (under the 5 € threshold); plus a pending request and one missing its document.
    Returns the service and product (commune schema rows)."""
    now = timezone.now()
    with in_commune(commune):
        service = Service.objects.create(
            kind=ServiceKind.CANTINE, name=f"Cantine {tag}", low_balance_threshold_cents=500
        )
        DocumentType.objects.create(service=service, code="domicile", label="Domicile")
        product = Product.objects.create(
            service=service, name=f"Repas {tag}", price_cents=400, weekdays=[0, 1, 3, 4]
        )
        pai = MealVariant.objects.create(product=product, name="PAI")
        standard = MealVariant.objects.create(product=product, name="Standard")
    for i in range(families):
        user, family_id, child = _family()
        with in_commune(commune):
            _request(service, user, family_id, child)
            _book(product, user, family_id, child, TODAY, variant=pai if i % 3 == 0 else standard)
            _book(product, user, family_id, child, TOMORROW, paid_by="direct_debit")
            _book(
                product, user, family_id, child, TODAY, cancelled=now - datetime.timedelta(days=2)
            )
            _book(
                product,
                user,
                family_id,
                child,
                TOMORROW,
                cancelled=now - datetime.timedelta(days=10),
            )
        credit_top_up(
            source_key=f"test:{tag}:{family_id}",
            family_id=family_id,
            amount_cents=200,
            commune=commune,
            service_id=service.pk,
        )
    with in_commune(commune):
        for status in (RequestStatus.SUBMITTED, RequestStatus.INFO_REQUESTED):
            user, family_id, child = _family()
            _request(service, user, family_id, child, status=status)
    return service, product


def test_the_figures_equal_the_data_of_this_commune_only(
    frozen, client, commune_a, commune_b, in_commune, manager_a
):
    now = timezone.now()
    service, _ = _fill(commune_a, in_commune, families=4, tag="A")
    _fill(commune_b, in_commune, families=7, tag="B")  # never counted in A
    with in_commune(commune_a):
        # A waiting request with its document (not "missing"), sent 5 days ago.
        user, family_id, child = _family()
        request = _request(
            service,
            user,
            family_id,
            child,
            status=RequestStatus.SUBMITTED,
            created_at=now - datetime.timedelta(days=5),
        )
        from tenant_apps.enrollments.models import Document

        Document.objects.create(
            access_request=request,
            document_type=service.document_types.get(),
            file="documents/x.pdf",
            original_name="x.pdf",
            content_type="application/pdf",
            size=10,
            uploaded_by_id=user.pk,
        )
    # A family with plenty of money is not low; an unknown family's low pocket is not counted.
    rich_user, rich_family, rich_child = _family()
    with in_commune(commune_a):
        _request(service, rich_user, rich_family, rich_child)
    credit_top_up(
        source_key="test:rich",
        family_id=rich_family,
        amount_cents=9000,
        commune=commune_a,
        service_id=service.pk,
    )
    _, stranger, _ = _family()
    credit_top_up(
        source_key="test:stranger",
        family_id=stranger,
        amount_cents=100,
        commune=commune_a,
        service_id=service.pk,
    )
    client.force_login(manager_a)

    data = client_for(manager_a).get("/c/commune-a/api/v1/staff/dashboard").json()

    today, tomorrow = data["days"]
    assert today["date"] == "2026-12-03" and tomorrow["date"] == "2026-12-04"
    (meal_today,) = today["products"]
    assert meal_today["booked"] == 4 and meal_today["open"] is True
    assert {v["name"]: v["count"] for v in meal_today["variants"]} == {"PAI": 2, "Standard": 2}
    assert tomorrow["products"][0]["booked"] == 4
    assert data["pending_requests"] == 2  # the one missing its document, the one with it
    assert data["oldest_pending_days"] == 5
    assert data["info_requested"] == 1
    assert data["missing_documents"] == 2  # waiting for the family + submitted without the file
    assert data["cancellations"] == 4  # the ones 10 days ago are not recent
    assert len(data["latest_cancellations"]) == 4
    assert data["low_balances"] == 4
    assert {b["balance_cents"] for b in data["lowest_balances"]} == {200}
    assert {b["threshold_cents"] for b in data["lowest_balances"]} == {500}
    assert stranger not in {b["family_id"] for b in data["lowest_balances"]}
    assert data["direct_debit_items"] == 4
    assert data["direct_debit_cents"] == 4 * 400

    page = client.get("/c/commune-a/gestion/").content.decode()
    assert '<p class="dash-number" id="demandes-en-attente">2</p>' in page
    assert '<p class="dash-number" id="pieces-manquantes">2</p>' in page
    assert '<p class="dash-number" id="annulations">4</p>' in page
    assert '<p class="dash-number" id="soldes-bas">4</p>' in page
    assert '<p class="dash-number" id="prelevements">4</p>' in page
    assert "16,00" in page  # 4 places of 4 € to invoice
    assert "La plus ancienne attend depuis 5 jours" in page
    assert "PAI : 2" in page and "Standard : 2" in page
    assert "Cantine B" not in page and "Repas B" not in page
    assert 'href="/c/commune-a/gestion/demandes/?statut=submitted"' in page
    assert 'href="/c/commune-a/gestion/effectifs/?date=2026-12-03"' in page


def test_each_view_is_audited_with_the_families_shown(
    frozen, client, commune_a, in_commune, manager_a
):
    _fill(commune_a, in_commune, families=2, tag="A")
    client.force_login(manager_a)

    client.get("/c/commune-a/gestion/")

    entry = AuditEntry.objects.filter(action="dashboard.view").get()
    assert entry.actor == manager_a and entry.commune == commune_a
    assert len(entry.details["families"]) == 2


def test_a_closed_day_says_why(frozen, client, commune_a, in_commune, manager_a, canteen):
    from tenant_apps.catalog.models import Closure

    with in_commune(commune_a):
        Closure.objects.create(service=canteen.service, date=TOMORROW, reason="Grève")
    client.force_login(manager_a)

    data = client_for(manager_a).get("/c/commune-a/api/v1/staff/dashboard").json()

    today, tomorrow = (day["products"][0] for day in data["days"])
    assert today["open"] is True and today["closed_reason"] == ""
    assert tomorrow["open"] is False
    assert tomorrow["closed_reason"] == "fermeture du service : Grève"
    assert (
        "fermé (fermeture du service : Grève)"
        in client.get("/c/commune-a/gestion/").content.decode()
    )


def test_an_empty_commune_shows_zeros_not_errors(frozen, client, commune_a, manager_a):
    client.force_login(manager_a)
    response = client.get("/c/commune-a/gestion/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Aucune demande n’attend de décision." in page
    assert '<p class="dash-number" id="soldes-bas">0</p>' in page


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("how", ["page", "api"])
def test_the_query_count_does_not_grow_with_the_data(
    frozen, client, commune_a, in_commune, manager_a, how
):
    client.force_login(manager_a)
    api = client_for(manager_a)

    def call():
        if how == "page":
            return client.get("/c/commune-a/gestion/")
        return api.get("/c/commune-a/api/v1/staff/dashboard")

    _fill(commune_a, in_commune, families=2, tag="petit")
    call()  # warm-up: the session, the commune cache
    small = _queries(call)
    _fill(commune_a, in_commune, families=30, tag="grand")
    large = _queries(call)

    assert large == small, f"2 families: {small} queries; 32: {large}"
    # Measured: 15 for the page (session, user, membership, 10 for the figures, audit), 14 for
    # the API.
    assert small <= {"page": 15, "api": 14}[how], small


@pytest.mark.parametrize("path", ["/c/commune-a/gestion/", "/c/commune-a/api/v1/staff/dashboard"])
def test_refused_to_parents_other_communes_staff_and_anonymous(client, commune_a, commune_b, path):
    from tenants.models import Membership, Role

    parent = UserFactory()
    other = UserFactory()
    Membership.objects.create(user=other, commune=commune_b, role=Role.MANAGER)
    anonymous = client.get(path)
    assert anonymous.status_code in (302, 401, 403)
    for user in (parent, other):
        client.force_login(user)
        assert client.get(path).status_code == 403
