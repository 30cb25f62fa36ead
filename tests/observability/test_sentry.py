"""Sentry starts only with a DSN, and sends no personal data."""

from __future__ import annotations

import sentry_sdk

from shared_apps.common import observability


def test_without_a_dsn_sentry_is_not_started(monkeypatch):
    calls = []
    monkeypatch.setattr(sentry_sdk, "init", lambda **kwargs: calls.append(kwargs))

    assert observability.init_sentry({}) is False
    assert observability.init_sentry({"SENTRY_DSN": "  "}) is False
    assert calls == []


def test_with_a_dsn_sentry_is_started_without_personal_data(monkeypatch):
    calls = []
    monkeypatch.setattr(sentry_sdk, "init", lambda **kwargs: calls.append(kwargs))

    started = observability.init_sentry(
        {"SENTRY_DSN": "https://key@sentry.example.invalid/1", "MARELLE_RELEASE": "1.4.0"},
        environment="production",
    )

    assert started is True
    [options] = calls
    assert options["dsn"] == "https://key@sentry.example.invalid/1"
    assert options["send_default_pii"] is False
    assert options["include_local_variables"] is False
    assert options["max_request_body_size"] == "never"
    assert options["before_send"] is observability.scrub_event
    assert options["environment"] == "production"
    assert options["release"] == "1.4.0"


def test_before_send_keeps_the_user_id_and_strips_everything_personal():
    event = {
        "user": {
            "id": 42,
            "email": "lea@exemple.fr",
            "username": "lea@exemple.fr",
            "ip_address": "1.2.3.4",
        },
        "request": {
            "url": "https://marelle.example.fr/compte/verifier/Mzk-abcdefghijklmnopqrstuvwxyz012345/",
            "query_string": "q=Martin",
            "cookies": {"sessionid": "s"},
            "data": {"iban": "FR7630006000011234567890189"},
            "headers": {
                "Authorization": "Bearer tok",
                "Cookie": "x",
                "X-Request-ID": "abc123456789",
            },
        },
        "exception": {
            "values": [
                {
                    "value": "no account for lea@exemple.fr (FR76 3000 6000 0112 3456 7890 189)",
                    "stacktrace": {"frames": [{"function": "f", "vars": {"password": "p"}}]},
                }
            ]
        },
        "logentry": {"message": "mail to %s", "params": ["lea@exemple.fr"]},
        "breadcrumbs": {
            "values": [{"message": "sent to lea@exemple.fr", "data": {"to": "lea@exemple.fr"}}]
        },
    }

    scrubbed = observability.scrub_event(event, {})

    assert scrubbed["user"] == {"id": 42}
    assert set(scrubbed["request"]) == {"url", "headers"}
    assert scrubbed["request"]["headers"] == {"X-Request-ID": "abc123456789"}
    assert "abcdefghijklmnop" not in scrubbed["request"]["url"]
    assert "lea@exemple.fr" not in str(scrubbed)
    assert "3000 6000" not in str(scrubbed)
    assert "password" not in str(scrubbed)
