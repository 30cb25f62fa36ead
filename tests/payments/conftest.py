"""Stripe offline: a real localstripe process, and a capture server for its signed webhooks.

localstripe (GPL) runs as a separate tool process, never imported here: a tiny wrapper, run with
this interpreter, binds it to 127.0.0.1 on a port the system picks, keeps its state in a file of
this run only, and prints the port. It is flushed before each test and stopped at the end.

Its webhooks go to a small threaded HTTP server of ours that records each delivery (raw body and
Stripe-Signature header); a test then posts exactly those bytes to our webhook endpoint with the
Django test client, so the signature our view verifies is the one localstripe computed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stripe

from shared_apps.directory.services import publish_service
from shared_apps.families.services import get_or_create_family

SECRET_KEY = "sk_test_marelle"
PUBLISHABLE_KEY = "pk_test_marelle"
WEBHOOK_SECRET = "whsec_test"

CARD_OK = "4242424242424242"
# localstripe declines the *charge* for these numbers (4000000000000002 is only declined when
# attached to a customer there, which a one-off top-up never does).
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000000000003220"

# The launcher binds 127.0.0.1 on a free port (port 0, no race) and prints it.
LAUNCHER = Path(__file__).resolve().parents[2] / "scripts" / "localstripe_server.py"


def _request(method: str, url: str, data: dict | None = None, *, key: str | None = SECRET_KEY):
    body = urllib.parse.urlencode(data or {}).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw.strip() else None)
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, (json.loads(raw) if raw.strip() else None)


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
                if _request("DELETE", f"{url}/_config/data", key=None)[0] == 200:
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


@dataclass(frozen=True)
class Delivery:
    body: bytes
    signature: str

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class WebhookInbox:
    """What localstripe delivered, in order; tests wait for one event of one PaymentIntent."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()

    def record(self, delivery: Delivery) -> None:
        with self._changed:
            self.deliveries.append(delivery)
            self._changed.notify_all()

    def wait_for(self, event_type: str, intent_id: str, timeout: float = 10.0) -> Delivery:
        def found():
            for delivery in self.deliveries:
                event = delivery.event
                if event["type"] == event_type and event["data"]["object"]["id"] == intent_id:
                    return delivery
            return None

        with self._changed:
            if not self._changed.wait_for(found, timeout=timeout):
                raise AssertionError(f"no {event_type} webhook for {intent_id} in {timeout} s")
            return found()


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
    status, _ = _request(
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
    assert _request("DELETE", f"{localstripe_url}/_config/data", key=None)[0] == 200
    return localstripe_url


class Browser:
    """What Stripe.js does in the parent's browser, done over HTTP against localstripe."""

    def __init__(self, base: str) -> None:
        self.base = base

    def pay(self, intent_id: str, card_number: str) -> tuple[int, dict]:
        """Create the card's PaymentMethod, attach it to the intent and confirm."""
        status, method = _request(
            "POST",
            f"{self.base}/v1/payment_methods",
            {
                "type": "card",
                "card[number]": card_number,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
            },
        )
        assert status == 200, method
        status, body = _request(
            "POST", f"{self.base}/v1/payment_intents/{intent_id}", {"payment_method": method["id"]}
        )
        assert status == 200, body
        return _request("POST", f"{self.base}/v1/payment_intents/{intent_id}/confirm", {})

    def authenticate(self, intent_id: str, client_secret: str, *, success: bool) -> dict:
        """The 3-D Secure pop-up, answered with the publishable key as Stripe.js would."""
        status, body = _request(
            "POST",
            f"{self.base}/v1/payment_intents/{intent_id}/_authenticate",
            {
                "key": PUBLISHABLE_KEY,
                "client_secret": client_secret,
                "success": "true" if success else "false",
            },
            key=None,
        )
        assert status == 200, body
        return body

    def intent(self, intent_id: str) -> dict:
        status, body = _request("GET", f"{self.base}/v1/payment_intents/{intent_id}")
        assert status == 200, body
        return body

    def refunds_of(self, intent_id: str) -> list[dict]:
        query = urllib.parse.urlencode({"payment_intent": intent_id})
        status, body = _request("GET", f"{self.base}/v1/refunds?{query}")
        assert status == 200, body
        return body["data"]


@pytest.fixture
def browser(stripe_offline) -> Browser:
    return Browser(stripe_offline)


def sign(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header, for our own event fixtures (what localstripe never sends)."""
    return stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp
    )


def event_for(intent: dict, event_type: str, *, event_id: str | None = None) -> bytes:
    """A Stripe event about a real localstripe PaymentIntent (e.g. payment_intent.processing)."""
    return json.dumps(
        {
            "id": event_id or f"evt_marelle_{event_type.rsplit('.', 1)[1]}_{intent['id']}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": intent},
        }
    ).encode()


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
