"""POST/GET /api/v1/wallet/top-ups: a real PaymentIntent at localstripe, every bad input refused."""

from __future__ import annotations

import pytest

from shared_apps.directory.services import publish_service
from shared_apps.payments.models import Payment
from tests.factories import UserFactory
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db


def test_a_top_up_creates_a_payment_intent_and_returns_what_the_browser_needs(
    auth_api, family, cantine, browser, settings
):
    response = auth_api.post(
        "/api/v1/wallet/top-ups",
        {"amount_cents": 2000, "scope": "service", "commune_slug": "commune-a", "service_id": 7},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    payment = Payment.objects.get(pk=body["id"])
    assert body["status"] == "created"
    assert body["amount_cents"] == 2000
    assert body["scope"] == "service" and body["commune_slug"] == "commune-a"
    assert body["pocket_label"] == "Cantine de Commune A"
    assert body["payment"] == {
        "provider": "stripe",
        "client_secret": payment.client_secret,
        "publishable_key": "pk_test_marelle",
        "js_url": settings.STRIPE_JS_URL,
    }
    intent = browser.intent(payment.provider_ref)
    assert intent["client_secret"] == body["payment"]["client_secret"]
    assert (intent["amount"], intent["currency"]) == (2000, "eur")
    assert intent["metadata"] == {
        "payment_id": str(payment.pk),
        "family_id": str(family.pk),
        "purpose": "top_up",
    }
    assert payment.family == family and payment.created_by == auth_api.user


def test_a_general_top_up_needs_no_service(auth_api, family):
    response = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": 500, "scope": "general"})

    assert response.status_code == 201
    assert response.json()["pocket_label"] == "Tous les services"
    assert response.json()["commune_slug"] is None


def test_a_first_top_up_creates_the_family_if_needed(auth_api):
    response = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": 1000, "scope": "general"})

    assert response.status_code == 201
    assert Payment.objects.get().family.guardians.get().user == auth_api.user


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount_cents": 499, "scope": "general"}, "amount_cents"),
        ({"amount_cents": 50_001, "scope": "general"}, "amount_cents"),
        ({"amount_cents": 0, "scope": "general"}, "amount_cents"),
        ({"amount_cents": -1000, "scope": "general"}, "amount_cents"),
        ({"amount_cents": "vingt", "scope": "general"}, "amount_cents"),
        ({"amount_cents": 20.5, "scope": "general"}, "amount_cents"),
        ({"scope": "general"}, "amount_cents"),
        ({"amount_cents": 2000}, "scope"),
        ({"amount_cents": 2000, "scope": "everything"}, "scope"),
        ({"amount_cents": 2000, "scope": "service"}, "commune_slug"),
        ({"amount_cents": 2000, "scope": "service", "commune_slug": "commune-a"}, "service_id"),
        ({"amount_cents": 2000, "scope": "service", "service_id": 7}, "commune_slug"),
        ({"amount_cents": 2000, "scope": "general", "service_id": 7}, "service_id"),
        (
            {"amount_cents": 2000, "scope": "service", "commune_slug": "x" * 51, "service_id": 7},
            "commune_slug",
        ),
    ],
)
def test_bad_top_ups_are_refused_and_create_nothing(auth_api, cantine, data, field):
    response = auth_api.post("/api/v1/wallet/top-ups", data)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not Payment.objects.exists()


def test_amount_errors_say_the_bounds_in_french(auth_api):
    response = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": 100, "scope": "general"})

    assert response.json()["error"]["fields"]["amount_cents"] == [
        "Choisissez un montant entre 5,00\u00a0€ et 500,00\u00a0€."
    ]


@pytest.mark.parametrize(
    ("commune_slug", "service_id"),
    [("commune-a", 8), ("commune-b", 7), ("nulle-part", 7)],
)
def test_an_unknown_service_is_refused(auth_api, cantine, commune_slug, service_id):
    response = auth_api.post(
        "/api/v1/wallet/top-ups",
        {
            "amount_cents": 2000,
            "scope": "service",
            "commune_slug": commune_slug,
            "service_id": service_id,
        },
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_service"
    assert "service_id" in response.json()["error"]["fields"]
    assert not Payment.objects.exists()


def test_an_inactive_service_cannot_be_topped_up(auth_api, commune_a):
    publish_service(
        commune=commune_a, service_id=9, kind="garderie", name="Garderie", description="",
        is_active=False,
    )  # fmt: skip
    response = auth_api.post(
        "/api/v1/wallet/top-ups",
        {"amount_cents": 2000, "scope": "service", "commune_slug": "commune-a", "service_id": 9},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_service"


def test_general_credit_is_refused_when_the_platform_switched_it_off(auth_api, settings, cantine):
    settings.WALLET_GENERAL_CREDIT_ENABLED = False

    refused = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": 2000, "scope": "general"})
    allowed = auth_api.post(
        "/api/v1/wallet/top-ups",
        {"amount_cents": 2000, "scope": "service", "commune_slug": "commune-a", "service_id": 7},
    )

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "general_credit_disabled"
    assert "tous services" in refused.json()["error"]["message"]
    assert allowed.status_code == 201
    assert Payment.objects.count() == 1


def test_without_stripe_keys_card_top_ups_are_unavailable(auth_api, settings):
    settings.STRIPE_SECRET_KEY = ""

    response = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": 2000, "scope": "general"})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "payment_provider_unavailable"
    assert not Payment.objects.exists()


def test_when_stripe_is_down_the_parent_is_told_and_nothing_is_debited(auth_api, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    response = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": 2000, "scope": "general"})

    assert response.status_code == 503
    assert "aucun montant" in response.json()["error"]["message"]
    payment = Payment.objects.get()
    assert payment.status == "failed" and payment.provider_ref is None


def test_top_ups_need_authentication(api):
    response = api.post("/api/v1/wallet/top-ups", {"amount_cents": 2000, "scope": "general"})

    assert response.status_code == 401
    assert not Payment.objects.exists()


def test_a_family_follows_its_top_up(auth_api, family):
    created = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": 1500, "scope": "general"})

    body = auth_api.get(f"/api/v1/wallet/top-ups/{created.json()['id']}").json()

    assert body["status"] == "created"
    assert body["amount_cents"] == 1500
    assert body["payment"]["client_secret"] == created.json()["payment"]["client_secret"]


def test_another_familys_top_up_is_not_found(auth_api, family):
    created = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": 1500, "scope": "general"})
    stranger = client_for(UserFactory())

    response = stranger.get(f"/api/v1/wallet/top-ups/{created.json()['id']}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "client_secret" not in response.content.decode()


def test_an_unknown_top_up_is_not_found(auth_api, family):
    assert auth_api.get("/api/v1/wallet/top-ups/999999").status_code == 404
