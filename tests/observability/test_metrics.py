"""/metrics: protected, labelled by route name (never a raw path), jobs and money flows."""

from __future__ import annotations

import re

import pytest

from tests.factories import UserFactory
from tests.fixtures.clients import client_for


def test_metrics_answer_the_internal_network(client, db):
    response = client.get("/metrics", REMOTE_ADDR="10.0.3.7")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "93.184.216.34"},  # the internet
        {"REMOTE_ADDR": "10.0.3.7", "HTTP_X_FORWARDED_FOR": "93.184.216.34"},  # through nginx
    ],
)
def test_metrics_refuse_anyone_else(client, db, headers):
    assert client.get("/metrics", **headers).status_code == 403


def test_with_a_token_metrics_need_it_from_everywhere(client, db, settings):
    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"

    assert client.get("/metrics", REMOTE_ADDR="10.0.3.7").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus")
    assert ok.status_code == 200


def test_requests_are_counted_by_route_name_without_slugs_or_ids(client, db, commune_a):
    parent = UserFactory()
    client_for(parent).get("/c/commune-a/api/v1/reservations")
    client_for(parent).get("/c/commune-a/api/v1/reservations/987654/cancel")

    text = client.get("/metrics").content.decode()

    assert 'view="api-reservations"' in text
    latency = [
        line
        for line in text.splitlines()
        if line.startswith("django_http_requests_latency_seconds_by_view_method")
    ]
    assert any('view="api-reservations"' in line for line in latency)
    for line in text.splitlines():
        if line.startswith("django_http") and "{" in line:
            assert "commune-a" not in line
            assert "987654" not in line


def test_task_failures_are_counted_by_task(client, db):
    from celery import shared_task

    @shared_task(name="tests.observability.fails")
    def fails():
        raise RuntimeError("boom")

    # as a worker runs it (a worker does not propagate the error: it records the failure)
    assert fails.apply(throw=False).failed()

    text = client.get("/metrics").content.decode()
    assert re.search(
        r'marelle_celery_task_failures_total\{task="tests.observability.fails"\} [1-9]', text
    )


def test_money_flows_are_the_ledgers_per_flow(client, db, commune_a):
    from shared_apps.families.models import Family
    from shared_apps.wallet import services as wallet

    def flow(text, name):
        match = re.search(rf'marelle_money_flow_cents_total\{{flow="{name}"\}} ([0-9.e+]+)', text)
        return float(match.group(1))

    before = client.get("/metrics").content.decode()
    family = Family.objects.create()
    wallet.credit_top_up(source_key="test-topup-1", family_id=family.pk, amount_cents=2_500)

    after = client.get("/metrics").content.decode()

    assert flow(after, "top_up") - flow(before, "top_up") == 2_500
    assert "commune" not in "".join(x for x in after.splitlines() if x.startswith("marelle_money"))


def test_a_worker_serves_its_task_metrics_on_its_own_port(monkeypatch):
    import socket
    import urllib.request

    from shared_apps.common import observability

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CELERY_METRICS_PORT", str(port))
    monkeypatch.setenv("CELERY_METRICS_ADDRESS", "127.0.0.1")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    observability.task_metrics()["failures"].labels(task="tests.observability.worker").inc()

    observability._on_worker_ready()

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'marelle_celery_task_failures_total{task="tests.observability.worker"}' in text
