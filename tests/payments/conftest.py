"""Stripe offline for every payments test, and a capture server for localstripe's signed webhooks.

localstripe itself is started by the `localstripe_url` / `stripe_offline` fixtures of
tests/fixtures/stripe.py (one process per session and worker, flushed before each test).

Its webhooks go to a small threaded HTTP server of ours that records each delivery (raw body and
Stripe-Signature header); a test then posts exactly those bytes to our webhook endpoint with the
Django test client, so the signature our view verifies is the one localstripe computed.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared_apps.directory.services import publish_service
from shared_apps.families.services import get_or_create_family
from tests.payments.offline import (
    WEBHOOK_SECRET,
    Browser,
    Delivery,
    WebhookInbox,
    call_localstripe,
)


@pytest.fixture(scope="session")
def webhook_inbox(localstripe_url):
    """A capture server on 127.0.0.1, registered once as localstripe's webhook endpoint."""
    inbox = WebhookInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            inbox.record(Delivery(body, self.headers.get("Stripe-Signature", "")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    status, _ = call_localstripe(
        "POST",
        f"{localstripe_url}/_config/webhooks/marelle",
        {"url": f"http://127.0.0.1:{server.server_port}/", "secret": WEBHOOK_SECRET},
        key=None,
    )
    assert status == 200
    yield inbox
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _stripe_offline_for_every_payments_test(stripe_offline):
    """Every payments test talks to a flushed localstripe with the test keys."""
    return stripe_offline


@pytest.fixture
def browser(stripe_offline) -> Browser:
    return Browser(stripe_offline)


@pytest.fixture
def post_webhook(api, send_mail_now):
    """POST raw bytes to our endpoint, running what is queued after commit (processing)."""

    def _post(body: bytes, signature: str | None):
        headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
        with send_mail_now():
            return api.generic(
                "POST",
                "/api/v1/payments/stripe/webhook",
                body,
                content_type="application/json; charset=utf-8",
                **headers,
            )

    return _post


@pytest.fixture
def deliver(webhook_inbox, post_webhook):
    """Wait for localstripe's signed webhook about an intent, then hand it to our endpoint."""

    def _deliver(event_type: str, intent_id: str):
        delivery = webhook_inbox.wait_for(event_type, intent_id)
        response = post_webhook(delivery.body, delivery.signature)
        assert response.status_code == 200, response.content
        return delivery

    return _deliver


@pytest.fixture
def family(auth_api):
    return get_or_create_family(auth_api.user)


@pytest.fixture
def cantine(commune_a):
    """Commune A's service n° 7, published and active: a valid pocket to top up."""
    return publish_service(
        commune=commune_a,
        service_id=7,
        kind="cantine",
        name="Cantine",
        description="",
        is_active=True,
    )
