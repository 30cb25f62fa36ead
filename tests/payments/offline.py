"""Stripe offline, the parts that are not fixtures: test keys and cards, plain HTTP calls to
localstripe, what Stripe.js does in the browser, and our own signed events.

The fixtures that start localstripe and capture its webhooks are in this directory's conftest.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import stripe

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


def call_localstripe(
    method: str, url: str, data: dict | None = None, *, key: str | None = SECRET_KEY
):
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


class Browser:
    """What Stripe.js does in the parent's browser, done over HTTP against localstripe."""

    def __init__(self, base: str) -> None:
        self.base = base

    def pay(self, intent_id: str, card_number: str) -> tuple[int, dict]:
        """Create the card's PaymentMethod, attach it to the intent and confirm."""
        status, method = call_localstripe(
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
        status, body = call_localstripe(
            "POST", f"{self.base}/v1/payment_intents/{intent_id}", {"payment_method": method["id"]}
        )
        assert status == 200, body
        return call_localstripe("POST", f"{self.base}/v1/payment_intents/{intent_id}/confirm", {})

    def authenticate(self, intent_id: str, client_secret: str, *, success: bool) -> dict:
        """The 3-D Secure pop-up, answered with the publishable key as Stripe.js would."""
        status, body = call_localstripe(
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
        status, body = call_localstripe("GET", f"{self.base}/v1/payment_intents/{intent_id}")
        assert status == 200, body
        return body

    def refunds_of(self, intent_id: str) -> list[dict]:
        query = urllib.parse.urlencode({"payment_intent": intent_id})
        status, body = call_localstripe("GET", f"{self.base}/v1/refunds?{query}")
        assert status == 200, body
        return body["data"]


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
