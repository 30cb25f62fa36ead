"""Request ids, and log lines that name the user by id and the commune by slug, never by e-mail."""

from __future__ import annotations

import json
import logging

from shared_apps.common.observability import JsonFormatter, redact
from tests.factories import UserFactory
from tests.fixtures.clients import client_for


def test_a_request_id_is_made_and_echoed(client, db):
    response = client.get("/healthz")

    assert len(response["X-Request-ID"]) == 32


def test_the_proxy_request_id_is_kept_and_a_forged_one_replaced(client, db):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x" injected=1')

    assert kept["X-Request-ID"] == "0123456789abcdef0123456789abcdef"
    assert forged["X-Request-ID"] != 'x" injected=1'
    assert len(forged["X-Request-ID"]) == 32


def test_a_parents_request_logs_their_id_and_commune_never_their_email(caplog, db, commune_a):
    parent = UserFactory(email="lea.parent@exemple.fr", first_name="Léa")
    api = client_for(parent)
    caplog.set_level(logging.INFO, logger="marelle.request")

    response = api.get("/c/commune-a/api/v1/reservations", HTTP_X_REQUEST_ID="req-1234567890")

    assert response.status_code == 200
    [line] = [r for r in caplog.records if r.name == "marelle.request"]
    assert line.request_id == "req-1234567890"
    assert line.user_id == parent.pk
    assert line.commune == "commune-a"
    assert line.commune_id == commune_a.pk
    assert line.route == "c/<slug:commune_slug>/api/v1/reservations"
    assert line.status == 200
    formatter = JsonFormatter()
    for record in caplog.records:
        text = formatter.format(record)
        assert "lea.parent@exemple.fr" not in text
        assert "Léa" not in text
        assert parent.last_name not in text
    fields = json.loads(formatter.format(line))
    assert {"time", "level", "name", "message", "request_id", "commune", "user_id"} <= set(fields)
    assert fields["user_id"] == parent.pk


def test_log_lines_inside_a_view_carry_the_request_context(caplog, db, commune_a):
    parent = UserFactory()
    caplog.set_level(logging.INFO)
    logger = logging.getLogger("tests.observability")

    from shared_apps.common import observability

    seen = {}

    def view_logs(request, *args, **kwargs):
        logger.info("inside")
        seen.update(observability.log_context())

    from django.test import RequestFactory

    request = RequestFactory().get("/c/commune-a/")
    request.tenant = commune_a
    request.user = parent

    def get_response(req):
        from django.http import HttpResponse

        view_logs(req)
        return HttpResponse("ok")

    observability.RequestContextMiddleware(get_response)(request)

    [record] = [r for r in caplog.records if r.name == "tests.observability"]
    assert record.commune == "commune-a"
    assert record.user_id == parent.pk
    assert record.request_id == request.request_id
    assert seen["commune_id"] == commune_a.pk


def test_json_lines_blank_emails_ibans_and_tokens_a_message_happens_to_contain():
    record = logging.LogRecord(
        "x",
        logging.WARNING,
        __file__,
        1,
        "refused %s for %s (IBAN %s) with %s",
        (
            "sk_live_abcdefghijkl",
            "anne@exemple.fr",
            "FR76 3000 6000 0112 3456 7890 189",
            "Bearer abc.def",
        ),
        None,
    )
    text = JsonFormatter().format(record)

    for secret in ("sk_live_abcdefghijkl", "anne@exemple.fr", "3000 6000", "abc.def"):
        assert secret not in text
    assert "[e-mail]" in text and "[iban]" in text
    assert redact("payment 42 for family 7") == "payment 42 for family 7"


def test_celery_task_logs_carry_the_task_id_and_the_commune(caplog, db, commune_a):
    from celery import shared_task

    from config.celery import TenantTask

    caplog.set_level(logging.INFO)

    @shared_task(base=TenantTask, name="tests.observability.logs_something")
    def logs_something(schema_name):
        logging.getLogger("tests.observability.task").info("working")

    result = logs_something.apply(args=[commune_a.schema_name])

    [record] = [r for r in caplog.records if r.name == "tests.observability.task"]
    assert record.task_id == result.id
    assert record.task == "tests.observability.logs_something"
    assert record.commune == "commune-a"
