"""Stripe offline: a real localstripe process, and a capture server for its signed webhooks.

localstripe (GPL) runs as a separate tool process, never imported here: a tiny wrapper, run with
this interpreter, binds it to 127.0.0.1 on a port the system picks, keeps its state in a file of
this run only, and prints the port. It is flushed before each test and stopped at the end.

Its webhooks go to a small threaded HTTP server of ours that records each delivery (raw body and
Stripe-Signature header); a test then posts exactly those bytes to our webhook endpoint with the
Django test client, so the signature our view verifies is the one localstripe computed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared_apps.directory.services import publish_service
from shared_apps.families.services import get_or_create_family
from tests.payments.offline import (
    LAUNCHER,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    Browser,
    Delivery,
    WebhookInbox,
    call_localstripe,
)


@pytest.fixture(scope="session")
def localstripe_url():
    """Start localstripe once per session; stop it at the end (only the process we started)."""
    workdir = tempfile.mkdtemp(prefix="marelle-localstripe-")
    log = open(os.path.join(workdir, "localstripe.log"), "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), os.path.join(workdir, "state.pickle")],
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        port = int(process.stdout.readline() or 0)
        if not port:
            raise RuntimeError(f"localstripe did not start, see {log.name}")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                if call_localstripe("DELETE", f"{url}/_config/data", key=None)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"localstripe does not answer, see {log.name}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


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
def stripe_offline(settings, localstripe_url):
    """Every payments test talks to a flushed localstripe with the test keys."""
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_JS_URL = f"{localstripe_url}/js.stripe.com/v3/"
    settings.WALLET_GENERAL_CREDIT_ENABLED = True
    assert call_localstripe("DELETE", f"{localstripe_url}/_config/data", key=None)[0] == 200
    return localstripe_url


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
