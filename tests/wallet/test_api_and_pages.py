"""Wallet API and page (the guide's 40 € example), counter payments by staff, isolation."""

from __future__ import annotations

import pytest

from shared_apps.audit.models import AuditEntry
from shared_apps.directory.services import publish_service
from shared_apps.families.selectors import family_id_of
from shared_apps.families.services import get_or_create_family
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.services import credit_top_up
from tenant_apps.catalog.models import Service, ServiceKind
from tenant_apps.enrollments.models import AccessRequest
from tenants.models import Commune, Membership, Role
from tests.factories import UserFactory
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def guide_wallet(auth_api, commune_a, commune_b):
    """40,00 € = 20 € "Garderie de Commune B" + 15 € "Cantine de Commune A" + 5 € all services."""
    family = get_or_create_family(auth_api.user)
    publish_service(
        commune=commune_a,
        service_id=1,
        kind="cantine",
        name="Cantine",
        description="",
        is_active=True,
    )
    publish_service(
        commune=commune_b,
        service_id=1,
        kind="garderie",
        name="Garderie",
        description="",
        is_active=True,
    )
    credit_top_up(
        source_key="a", family_id=family.pk, amount_cents=2000, commune=commune_b, service_id=1
    )
    credit_top_up(
        source_key="b", family_id=family.pk, amount_cents=1500, commune=commune_a, service_id=1
    )
    credit_top_up(source_key="c", family_id=family.pk, amount_cents=500)
    return family


def test_wallet_api_shows_the_total_and_each_pocket(auth_api, guide_wallet):
    body = auth_api.get("/api/v1/wallet").json()
    assert body["total_cents"] == 4000
    pockets = {
        (p["scope"], p["commune_slug"], p["label"]): p["balance_cents"] for p in body["pockets"]
    }
    assert pockets == {
        ("general", None, "Tous les services"): 500,
        ("service", "commune-a", "Cantine de Commune A"): 1500,
        ("service", "commune-b", "Garderie de Commune B"): 2000,
    }


def test_wallet_page_shows_the_guides_example(client, auth_api, guide_wallet):
    client.force_login(auth_api.user)
    page = client.get("/porte-monnaie/").content.decode()
    assert "40,00\u00a0€" in page
    assert "Garderie de Commune B" in page and "20,00\u00a0€" in page
    assert "Cantine de Commune A" in page and "15,00\u00a0€" in page
    assert "Tous les services" in page and "5,00\u00a0€" in page


def test_history_lists_movements_newest_first(auth_api, guide_wallet):
    results = auth_api.get("/api/v1/wallet/transactions").json()["results"]
    assert [r["amount_cents"] for r in results] == [500, 1500, 2000]
    assert results[0]["description"] == "Rechargement par carte bancaire"


def test_a_family_never_sees_another_familys_wallet(guide_wallet):
    stranger = client_for(UserFactory())
    assert stranger.get("/api/v1/wallet").json() == {
        "total_cents": 0,
        "pockets": [
            {
                "scope": "general",
                "commune_slug": None,
                "service_id": None,
                "label": "Tous les services",
                "balance_cents": 0,
            }
        ],
    }
    assert stranger.get("/api/v1/wallet/transactions").json()["count"] == 0


def test_wallet_needs_authentication(api):
    assert api.get("/api/v1/wallet").status_code == 401


@pytest.fixture
def known_family(commune_a, in_commune):
    """A family that asked commune A for its canteen."""
    parent = UserFactory(first_name="Inès", last_name="Bernard")
    family = get_or_create_family(parent)
    with in_commune(commune_a):
        service = Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine")
        AccessRequest.objects.create(service=service, family_id=family.pk, submitted_by=parent)
    family.service = service
    family.parent = parent
    return family


@pytest.fixture
def agent(commune_a):
    user = UserFactory()
    Membership.objects.create(user=user, commune=commune_a, role=Role.AGENT)
    return user


def test_staff_records_a_counter_payment_earmarked_and_audited(agent, known_family, commune_a):
    response = client_for(agent).post(
        "/c/commune-a/api/v1/staff/wallet-credits",
        {
            "family_id": known_family.pk,
            "service_id": known_family.service.pk,
            "amount_cents": 2500,
            "method": "cheque",
            "reference": "CHQ 0042",
        },
    )
    assert response.status_code == 201, response.json()
    wallet = client_for(known_family.parent).get("/api/v1/wallet").json()
    assert wallet["total_cents"] == 2500
    assert (
        next(p for p in wallet["pockets"] if p["scope"] == "service")["commune_slug"] == "commune-a"
    )
    entry = AuditEntry.objects.get(action="wallet.counter_credit")
    assert (entry.actor_id, entry.commune_id, entry.family_id) == (
        agent.pk,
        commune_a.pk,
        known_family.pk,
    )
    assert entry.details["reference"] == "CHQ 0042"


def test_the_same_counter_reference_is_not_credited_twice(agent, known_family):
    data = {
        "family_id": known_family.pk,
        "service_id": known_family.service.pk,
        "amount_cents": 2500,
        "method": "cash",
        "reference": "R-1",
    }
    assert (
        client_for(agent).post("/c/commune-a/api/v1/staff/wallet-credits", data).status_code == 201
    )
    again = client_for(agent).post("/c/commune-a/api/v1/staff/wallet-credits", data)
    assert again.status_code == 409
    assert LedgerTransaction.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_cents": 0}, "amount_cents"),
        ({"amount_cents": 100_001}, "amount_cents"),
        ({"method": "bitcoin"}, "method"),
        ({"reference": ""}, "reference"),
    ],
)
def test_bad_counter_payments_are_refused(agent, known_family, change, field):
    data = {
        "family_id": known_family.pk,
        "service_id": known_family.service.pk,
        "amount_cents": 2500,
        "method": "cash",
        "reference": "R-1",
        **change,
    }
    response = client_for(agent).post("/c/commune-a/api/v1/staff/wallet-credits", data)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not LedgerTransaction.objects.exists()


def test_counter_payment_for_a_family_unknown_to_the_commune_is_404(agent, commune_a, in_commune):
    stranger_family = get_or_create_family(UserFactory())
    with in_commune(commune_a):
        service = Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine")
    response = client_for(agent).post(
        "/c/commune-a/api/v1/staff/wallet-credits",
        {
            "family_id": stranger_family.pk,
            "service_id": service.pk,
            "amount_cents": 100,
            "method": "cash",
            "reference": "x",
        },
    )
    assert response.status_code == 404
    assert not LedgerTransaction.objects.exists()


def test_staff_of_b_cannot_credit_through_a_nor_b(known_family, commune_b):
    agent_b = UserFactory()
    Membership.objects.create(user=agent_b, commune=commune_b, role=Role.AGENT)
    data = {
        "family_id": known_family.pk,
        "service_id": known_family.service.pk,
        "amount_cents": 100,
        "method": "cash",
        "reference": "x",
    }
    assert (
        client_for(agent_b).post("/c/commune-a/api/v1/staff/wallet-credits", data).status_code
        == 403
    )
    # In B the family never asked anything: not B's to see.
    assert (
        client_for(agent_b).post("/c/commune-b/api/v1/staff/wallet-credits", data).status_code
        == 404
    )
    assert (
        client_for(known_family.parent)
        .post("/c/commune-a/api/v1/staff/wallet-credits", data)
        .status_code
        == 403
    )
    assert not LedgerTransaction.objects.exists()


def test_counter_payment_page(client, agent, known_family):
    client.force_login(agent)
    page = client.get("/c/commune-a/gestion/versements/").content.decode()
    assert "Inès Bernard" in page
    response = client.post(
        "/c/commune-a/gestion/versements/",
        {
            "family_id": known_family.pk,
            "service_id": known_family.service.pk,
            "amount": "15,50",
            "method": "cash",
            "reference": "Reçu 7",
        },
    )
    assert response.status_code == 302
    assert LedgerTransaction.objects.get().postings.get(amount_cents__gt=0).amount_cents == 1550
    assert family_id_of(known_family.parent) == known_family.pk


def test_counter_payment_page_bad_amount(client, agent, known_family):
    client.force_login(agent)
    response = client.post(
        "/c/commune-a/gestion/versements/",
        {
            "family_id": known_family.pk,
            "service_id": known_family.service.pk,
            "amount": "douze",
            "method": "cash",
            "reference": "R",
        },
    )
    assert "Montant invalide" in response.content.decode()
    assert not LedgerTransaction.objects.exists()


def test_counter_payment_in_a_commune_closed_after_its_lookup_was_cached_is_refused(
    agent, known_family, commune_a
):
    staff = client_for(agent)
    assert staff.get("/c/commune-a/api/v1/services").status_code == 200  # commune cached
    Commune.objects.filter(pk=commune_a.pk).update(is_active=False)  # no process told

    response = staff.post(
        "/c/commune-a/api/v1/staff/wallet-credits",
        {
            "family_id": known_family.pk,
            "service_id": known_family.service.pk,
            "amount_cents": 2500,
            "method": "cash",
            "reference": "REÇU 12",
        },
    )

    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "commune_inactive"
    assert client_for(known_family.parent).get("/api/v1/wallet").json()["total_cents"] == 0
