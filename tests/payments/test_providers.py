"""The provider interface: Stripe's requests (shape, keys, idempotency) and the state machine."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import stripe

from shared_apps.payments.models import PaymentStatus, can_move
from shared_apps.payments.providers import Outcome, ProviderRefused, get_provider
from shared_apps.payments.stripe_provider import StripeProvider


class RecordingHTTPClient(stripe.HTTPClient):
    """Stands for Stripe's servers where localstripe cannot show a request's shape."""

    name = "recording"

    def __init__(self, answer: dict, status: int = 200, *, before: list[dict] = ()) -> None:
        super().__init__()
        self.answer, self.status = answer, status
        self.before = list(before)  # answers (200) to the first requests, in order
        self.requests: list[dict] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append(
            {
                "method": method,
                "url": url,
                "headers": dict(headers or {}),
                "form": parse_qs(post_data or ""),
            }
        )
        if self.before:
            return json.dumps(self.before.pop(0)), 200, {}
        return json.dumps(self.answer), self.status, {}

    def close(self):
        pass


def _provider(http_client) -> StripeProvider:
    return StripeProvider(
        secret_key="sk_test_shape",
        publishable_key="pk_test_shape",
        webhook_secret="whsec_shape",
        api_base="http://stripe.invalid",
        http_client=http_client,
    )


def test_a_payment_intent_is_created_for_cards_with_our_metadata_and_an_idempotency_key():
    http = RecordingHTTPClient(
        {"id": "pi_1", "object": "payment_intent", "client_secret": "pi_1_secret_x"}
    )

    started = _provider(http).start_payment(
        amount_cents=2550,
        currency="eur",
        metadata={"payment_id": "12", "family_id": "3"},
        idempotency_key="marelle-payment-12",
    )

    assert (started.provider_ref, started.client_secret) == ("pi_1", "pi_1_secret_x")
    [request] = http.requests
    assert (request["method"], request["url"]) == (
        "post",
        "http://stripe.invalid/v1/payment_intents",
    )
    assert request["form"] == {
        "amount": ["2550"],
        "currency": ["eur"],
        "payment_method_types[0]": ["card"],
        "metadata[payment_id]": ["12"],
        "metadata[family_id]": ["3"],
    }
    assert request["headers"]["Idempotency-Key"] == "marelle-payment-12"
    assert request["headers"]["Authorization"] == "Bearer sk_test_shape"
    assert stripe.api_key is None  # the global key is never used


NO_REFUNDS = {"object": "list", "data": [], "has_more": False, "url": "/v1/refunds"}


def test_a_refund_names_the_payment_intent_the_amount_and_the_key():
    http = RecordingHTTPClient(
        {"id": "re_1", "object": "refund", "status": "succeeded"}, before=[NO_REFUNDS]
    )

    refund = _provider(http).refund(payment_ref="pi_1", amount_cents=800, idempotency_key="r-1")

    assert (refund.provider_ref, refund.status) == ("re_1", "succeeded")
    lookup, request = http.requests
    # First: is there already a refund with this key (an answer lost to a timeout)?
    assert lookup["method"] == "get"
    assert lookup["url"].startswith("http://stripe.invalid/v1/refunds?")
    assert "payment_intent=pi_1" in lookup["url"]
    assert request["url"] == "http://stripe.invalid/v1/refunds"
    assert request["form"] == {
        "payment_intent": ["pi_1"],
        "amount": ["800"],
        "metadata[refund_key]": ["r-1"],
    }
    assert request["headers"]["Idempotency-Key"] == "r-1"


def test_a_refund_already_made_under_the_key_is_returned_not_made_again():
    made = {
        "id": "re_9",
        "object": "refund",
        "status": "succeeded",
        "metadata": {"refund_key": "r-1"},
    }
    other = {
        "id": "re_8",
        "object": "refund",
        "status": "succeeded",
        "metadata": {"refund_key": "r-0"},
    }
    http = RecordingHTTPClient({**NO_REFUNDS, "data": [other, made]})

    refund = _provider(http).refund(payment_ref="pi_1", amount_cents=800, idempotency_key="r-1")

    assert (refund.provider_ref, refund.status) == ("re_9", "succeeded")
    assert [r["method"] for r in http.requests] == ["get"]  # nothing posted


def test_a_refund_stripe_refuses_is_a_definitive_refusal():
    http = RecordingHTTPClient(
        {"error": {"type": "invalid_request_error", "message": "Charge already refunded"}},
        400,
        before=[NO_REFUNDS],
    )

    with pytest.raises(ProviderRefused):
        _provider(http).refund(payment_ref="pi_1", amount_cents=800, idempotency_key="r-1")


@pytest.mark.parametrize(
    ("event_type", "outcome"),
    [
        ("payment_intent.succeeded", Outcome.SUCCEEDED),
        ("payment_intent.payment_failed", Outcome.FAILED),
        ("payment_intent.requires_action", Outcome.REQUIRES_ACTION),
        ("payment_intent.processing", Outcome.PROCESSING),
        ("payment_intent.canceled", Outcome.CANCELED),
        ("payment_intent.created", None),
    ],
)
def test_stripe_events_map_to_our_outcomes(event_type, outcome):
    notification = _provider(None).interpret(
        {
            "id": "evt_1",
            "type": event_type,
            "data": {
                "object": {
                    "id": "pi_1",
                    "object": "payment_intent",
                    "amount": 2000,
                    "currency": "eur",
                    "last_payment_error": {"code": "card_declined", "decline_code": "generic"},
                }
            },
        }
    )

    assert notification.outcome == outcome
    assert (notification.payment_ref, notification.amount_cents) == ("pi_1", 2000)
    assert notification.failure_code == "generic"


def test_the_provider_reads_the_current_settings(settings):
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_other"

    provider = get_provider("stripe")

    assert provider.name == "stripe" and provider.capabilities.client_side_confirmation
    assert provider.client_config(client_secret="s")["publishable_key"] == "pk_test_other"


S = PaymentStatus


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (S.CREATED, S.REQUIRES_ACTION, True),
        (S.CREATED, S.PROCESSING, True),
        (S.CREATED, S.SUCCEEDED, True),
        (S.CREATED, S.FAILED, True),
        (S.REQUIRES_ACTION, S.PROCESSING, True),
        (S.REQUIRES_ACTION, S.SUCCEEDED, True),
        (S.PROCESSING, S.REQUIRES_ACTION, False),
        (S.PROCESSING, S.SUCCEEDED, True),
        (S.FAILED, S.SUCCEEDED, True),  # a retry on the same intent was paid
        (S.FAILED, S.PROCESSING, False),
        (S.FAILED, S.REQUIRES_ACTION, False),
        (S.SUCCEEDED, S.FAILED, False),
        (S.SUCCEEDED, S.PROCESSING, False),
        (S.SUCCEEDED, S.CANCELED, False),
        (S.SUCCEEDED, S.SUCCEEDED, False),
        (S.CANCELED, S.SUCCEEDED, False),
    ],
)
def test_payments_only_move_forward(current, new, allowed):
    assert can_move(current, new) is allowed
