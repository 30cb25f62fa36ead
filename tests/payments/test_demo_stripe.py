"""The demo's embedded Stripe: localstripe started by config.demo_stripe when no keys are set,
cards confirmed as our card page's Stripe.js confirms them, the wallet credited by the webhook.

The browser's part is done over HTTP exactly as the stripe.js that localstripe serves does it
(scripts/localstripe_confirm_card.js): the publishable key, the client secret and the card's
details posted to the intent's `confirm`, then the 3-D Secure answer when asked.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest

from config import demo_stripe
from shared_apps.payments.models import Payment
from tests.payments.offline import PUBLISHABLE_KEY, Delivery, WebhookInbox, call_localstripe

pytestmark = pytest.mark.django_db

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"  # Stripe's generic decline, as the README tells parents
CARD_3DS = "4000002760003184"


def confirm_card(base: str, client_secret: str, number: str, *, key: str | None = None):
    """What the page's `stripe.confirmCardPayment(clientSecret, {payment_method: {card}})` posts."""
    intent_id = client_secret.split("_secret_")[0]
    body = {
        "key": key or PUBLISHABLE_KEY,
        "client_secret": client_secret,
        "payment_method_data": {
            "type": "card",
            "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
        },
    }
    request = urllib.request.Request(
        f"{base}/v1/payment_intents/{intent_id}/confirm",
        data=json.dumps(body).encode(),
        method="POST",  # no Authorization header, text/plain: as fetch() sends it
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _top_up(auth_api, cents: int = 5000) -> dict:
    response = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": cents, "scope": "general"})
    assert response.status_code == 201, response.content
    return response.json()


# --- the settings -------------------------------------------------------------------------------


def test_without_keys_the_demo_points_stripe_at_its_localstripe():
    assert not demo_stripe.uses_real_stripe({"STRIPE_SECRET_KEY": "", "PATH": "/usr/bin"})

    values = demo_stripe.demo_stripe_settings("http://127.0.0.1:4321/")

    assert values == {
        "STRIPE_API_BASE": "http://127.0.0.1:4321",
        "STRIPE_SECRET_KEY": "sk_test_marelle_demo",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_marelle_demo",
        "STRIPE_WEBHOOK_SECRET": "whsec_marelle_demo",
        "STRIPE_JS_URL": "http://127.0.0.1:4321/js.stripe.com/v3/",
    }


@pytest.mark.parametrize("name", demo_stripe.REAL_KEYS)
def test_with_real_keys_the_demo_starts_nothing_and_changes_nothing(name, monkeypatch, capsys):
    monkeypatch.setenv(name, "set")

    def refuse(**kwargs):
        raise AssertionError("localstripe started although Stripe keys are set")

    monkeypatch.setattr(demo_stripe, "start", refuse)
    demo_stripe.main(["start", "--webhook-url", "http://127.0.0.1:1/"])

    assert "export" not in capsys.readouterr().out


# --- the demo's own localstripe, end to end -----------------------------------------------------


@pytest.fixture(scope="module")
def demo_localstripe(tmp_path_factory):
    """`python -m config.demo_stripe start` as the demo runs it, its webhook sent to a capture
    server standing for our endpoint (the test then posts exactly those bytes to it)."""
    inbox = WebhookInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            inbox.record(Delivery(body, self.headers.get("Stripe-Signature", "")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state_dir = tmp_path_factory.mktemp("var") / "localstripe"
    pid, values = demo_stripe.start(
        webhook_url=f"http://127.0.0.1:{server.server_port}/", state_dir=state_dir
    )
    try:
        yield values, inbox
    finally:
        demo_stripe.stop(state_dir)
        server.shutdown()
        server.server_close()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (state_dir / "pid").exists()


def test_the_demo_localstripe_serves_stripe_js_on_the_loopback(demo_localstripe):
    values, _ = demo_localstripe
    assert values["STRIPE_API_BASE"].startswith("http://127.0.0.1:")

    with urllib.request.urlopen(values["STRIPE_JS_URL"], timeout=5) as response:
        js = response.read().decode()

    assert "localstripe" in js and "confirmCardPayment" in js
    assert "payment_method_data" in js  # the card, confirmed as Stripe.js confirms it


def test_a_top_up_paid_by_card_in_the_demo_is_credited_by_the_signed_webhook(
    demo_localstripe, auth_api, settings, post_webhook
):
    values, inbox = demo_localstripe
    for name, value in values.items():
        setattr(settings, name, value)
    top_up = _top_up(auth_api)
    assert top_up["payment"]["js_url"] == values["STRIPE_JS_URL"]
    intent_id = Payment.objects.get(pk=top_up["id"]).provider_ref

    status, intent = confirm_card(
        values["STRIPE_API_BASE"],
        top_up["payment"]["client_secret"],
        CARD_OK,
        key=top_up["payment"]["publishable_key"],
    )
    assert (status, intent["status"]) == (200, "succeeded")
    assert auth_api.get("/api/v1/wallet").json()["total_cents"] == 0  # not from the browser

    delivery = inbox.wait_for("payment_intent.succeeded", intent_id)
    assert post_webhook(delivery.body, delivery.signature).status_code == 200

    assert auth_api.get("/api/v1/wallet").json()["total_cents"] == 5000
    assert auth_api.get(f"/api/v1/wallet/top-ups/{top_up['id']}").json()["status"] == "succeeded"


# --- the test cards, on the tests' localstripe (the same launcher) ------------------------------


def test_a_declined_card_is_refused_and_another_card_may_be_tried(
    auth_api, stripe_offline, deliver
):
    top_up = _top_up(auth_api)
    secret = top_up["payment"]["client_secret"]
    intent_id = secret.split("_secret_")[0]

    status, body = confirm_card(stripe_offline, secret, CARD_DECLINED)
    assert status == 402 and body["error"]["code"] == "card_declined"
    deliver("payment_intent.payment_failed", intent_id)
    assert auth_api.get(f"/api/v1/wallet/top-ups/{top_up['id']}").json()["status"] == "failed"

    status, body = confirm_card(stripe_offline, secret, CARD_OK)
    assert (status, body["status"]) == (200, "succeeded")
    deliver("payment_intent.succeeded", intent_id)
    assert auth_api.get("/api/v1/wallet").json()["total_cents"] == 5000


@pytest.mark.parametrize("authenticated", [True, False])
def test_a_3d_secure_card_asks_then_pays_only_if_authenticated(
    auth_api, stripe_offline, browser, deliver, authenticated
):
    top_up = _top_up(auth_api)
    secret = top_up["payment"]["client_secret"]
    intent_id = secret.split("_secret_")[0]

    status, body = confirm_card(stripe_offline, secret, CARD_3DS)
    assert (status, body["status"]) == (200, "requires_action")

    # localstripe's 3-D Secure pop-up, answered as its stripe.js answers it.
    intent = browser.authenticate(intent_id, secret, success=authenticated)

    if authenticated:
        assert intent["status"] == "succeeded"
        deliver("payment_intent.succeeded", intent_id)
        assert auth_api.get("/api/v1/wallet").json()["total_cents"] == 5000
    else:
        assert intent["status"] == "requires_payment_method"
        assert auth_api.get("/api/v1/wallet").json()["total_cents"] == 0


def test_the_browser_confirm_needs_the_publishable_key_and_the_intents_secret(
    auth_api, stripe_offline
):
    secret = _top_up(auth_api)["payment"]["client_secret"]
    intent_id = secret.split("_secret_")[0]

    assert confirm_card(stripe_offline, f"{intent_id}_secret_forged", CARD_OK)[0] == 401
    assert confirm_card(stripe_offline, secret, CARD_OK, key="not_a_key")[0] == 401
    status, _ = call_localstripe(
        "POST",
        f"{stripe_offline}/v1/payment_intents/{intent_id}/confirm",
        {"client_secret": secret},
        key=None,
    )
    assert status == 401
    assert confirm_card(stripe_offline, secret, "4242")[0] == 400  # a card number too short
