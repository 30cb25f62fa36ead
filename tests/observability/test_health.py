"""/healthz (liveness: the process answers) and /readyz (database, broker, migrations)."""

from __future__ import annotations

import pytest
from django.db import connections

from shared_apps.common import health


def test_healthz_answers_without_touching_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "marelle"}


def test_readyz_is_ready_when_database_and_migrations_are(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker configured (no REDIS_URL)

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "not configured", "migrations": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_costs_one_round_of_queries_whatever_the_number_of_communes(
    client, db, commune_a, commune_b, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):  # SELECT 1, then public + template migrations
        assert client.get("/readyz").status_code == 200
    with django_assert_max_num_queries(0):  # cached for a few seconds
        assert client.get("/readyz").status_code == 200


def _unreachable_database():
    """The same database settings with a port where nothing listens: a real connection error."""
    real = connections["default"]
    settings_dict = {**real.settings_dict, "HOST": "127.0.0.1", "PORT": "1"}
    return type(real)(settings_dict, alias="default")


def test_readyz_is_503_when_the_database_is_unreachable(client, db, monkeypatch):
    bad = _unreachable_database()
    monkeypatch.setattr(health, "database_connection", lambda: bad)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("failed: OperationalError")
    assert body["checks"]["migrations"] == "skipped: database unreachable"
    # liveness does not depend on it
    assert client.get("/healthz").status_code == 200


def test_readyz_is_503_when_the_configured_broker_is_unreachable(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("failed: ")
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="REDIS_URL not set")
def test_readyz_reaches_a_real_broker(client, db, settings):
    import os

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


def test_readyz_is_503_when_a_migration_is_missing(client, db, monkeypatch):
    known = health.expected_migrations()
    monkeypatch.setattr(
        health, "expected_migrations", lambda: known | {("wallet", "9999_not_applied_yet")}
    )

    response = client.get("/readyz")

    assert response.status_code == 503
    assert "public:wallet.9999_not_applied_yet" in response.json()["checks"]["migrations"]
    assert "tenant_template:wallet.9999_not_applied_yet" in response.json()["checks"]["migrations"]


def test_probes_answer_a_pod_address_over_http_in_production(client, db, settings):
    """The kubelet and Prometheus call http://<pod ip>:8000/…: no Host of ours, no https."""
    settings.ALLOWED_HOSTS = ["marelle.example.fr"]
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    # any other page still gets the host check
    assert client.get("/services/", HTTP_HOST="10.1.2.3:8000").status_code == 400
