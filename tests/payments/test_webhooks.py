"""From the card to the wallet: localstripe's signed webhooks, over real HTTP, credit exactly once."""

from __future__ import annotations

import json
import time

import pytest

from shared_apps.families.selectors import family_id_of
from shared_apps.payments.models import Payment, WebhookEvent
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from tests.payments.offline import CARD_3DS, CARD_DECLINED, CARD_OK, event_for, sign

pytestmark = pytest.mark.django_db


class _Balances(dict):
    def __missing__(self, key):
        return 0  # no pocket yet: nothing in it


def _balances(user) -> dict[tuple[str, str | None, int | None], int]:
    return _Balances(
        ((p.scope, p.commune_slug, p.service_id), p.balance_cents)
        for p in pockets_of(family_id_of(user))
    )


def _start(auth_api, **data) -> Payment:
    response = auth_api.post("/api/v1/wallet/top-ups", data)
    assert response.status_code == 201, response.content
    return Payment.objects.get(pk=response.json()["id"])


@pytest.fixture
def top_up(auth_api, family, cantine):
    """A 20 € top-up of Commune A's canteen, created through our API."""
    return _start(
        auth_api, amount_cents=2000, scope="service", commune_slug="commune-a", service_id=7
    )


def test_a_card_payment_credits_the_chosen_pocket_once_stripe_confirms(
    auth_api, top_up, browser, deliver
):
    status, intent = browser.pay(top_up.provider_ref, CARD_OK)
    assert (status, intent["status"]) == (200, "succeeded")
    top_up.refresh_from_db()
    assert top_up.status == "created"  # the browser's word is not enough
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 0

    deliver("payment_intent.succeeded", top_up.provider_ref)

    top_up.refresh_from_db()
    assert top_up.status == "succeeded" and top_up.succeeded_at
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 2000
    assert _balances(auth_api.user)[("general", None, None)] == 0
    ledger = LedgerTransaction.objects.get(source_key=f"topup:{top_up.pk}")
    assert top_up.ledger_transaction == ledger and ledger.kind == "top_up"
    body = auth_api.get(f"/api/v1/wallet/top-ups/{top_up.pk}").json()
    assert body["status"] == "succeeded" and body["payment"] is None
    event = WebhookEvent.objects.get()
    assert event.type == "payment_intent.succeeded"
    assert event.payment == top_up and event.processed_at


def test_a_general_top_up_credits_the_general_pocket(auth_api, family, browser, deliver):
    payment = _start(auth_api, amount_cents=5000, scope="general")
    browser.pay(payment.provider_ref, CARD_OK)

    deliver("payment_intent.succeeded", payment.provider_ref)

    assert _balances(auth_api.user) == {("general", None, None): 5000}


def test_the_same_event_delivered_twice_credits_once(
    auth_api, top_up, browser, webhook_inbox, post_webhook
):
    browser.pay(top_up.provider_ref, CARD_OK)
    delivery = webhook_inbox.wait_for("payment_intent.succeeded", top_up.provider_ref)

    first = post_webhook(delivery.body, delivery.signature)
    second = post_webhook(delivery.body, delivery.signature)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert WebhookEvent.objects.count() == 1
    assert LedgerTransaction.objects.filter(source_key=f"topup:{top_up.pk}").count() == 1
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 2000


def test_another_event_saying_succeeded_again_credits_nothing_more(
    auth_api, top_up, browser, deliver, post_webhook
):
    browser.pay(top_up.provider_ref, CARD_OK)
    deliver("payment_intent.succeeded", top_up.provider_ref)
    replay = event_for(browser.intent(top_up.provider_ref), "payment_intent.succeeded")

    assert post_webhook(replay, sign(replay)).status_code == 200

    assert WebhookEvent.objects.count() == 2
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 2000


@pytest.mark.parametrize(
    "late_type",
    [
        "payment_intent.processing",
        "payment_intent.requires_action",
        "payment_intent.payment_failed",
    ],
)
def test_late_events_after_success_change_nothing(
    auth_api, top_up, browser, deliver, post_webhook, late_type
):
    browser.pay(top_up.provider_ref, CARD_OK)
    deliver("payment_intent.succeeded", top_up.provider_ref)
    late = event_for(browser.intent(top_up.provider_ref), late_type)

    assert post_webhook(late, sign(late)).status_code == 200

    top_up.refresh_from_db()
    assert top_up.status == "succeeded" and top_up.failure_message == ""
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 2000


def test_processing_then_succeeded_credits_once(auth_api, top_up, browser, deliver, post_webhook):
    processing = event_for(browser.intent(top_up.provider_ref), "payment_intent.processing")
    assert post_webhook(processing, sign(processing)).status_code == 200
    top_up.refresh_from_db()
    assert top_up.status == "processing"

    browser.pay(top_up.provider_ref, CARD_OK)
    deliver("payment_intent.succeeded", top_up.provider_ref)

    top_up.refresh_from_db()
    assert top_up.status == "succeeded"
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 2000


def test_a_forged_signature_is_refused_and_nothing_is_stored(
    auth_api, top_up, browser, webhook_inbox, post_webhook
):
    browser.pay(top_up.provider_ref, CARD_OK)
    genuine = webhook_inbox.wait_for("payment_intent.succeeded", top_up.provider_ref)
    tampered = genuine.event
    tampered["data"]["object"]["amount"] = 50_000
    tampered = json.dumps(tampered).encode()

    responses = [
        post_webhook(tampered, genuine.signature),  # body changed after signing
        post_webhook(genuine.body, sign(genuine.body, secret="whsec_not_ours")),
        post_webhook(genuine.body, None),
        post_webhook(genuine.body, "t=abc,v1=nonsense"),
        post_webhook(b"\xff\xfe not even utf-8", genuine.signature),
    ]

    for response in responses:
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    top_up.refresh_from_db()
    assert top_up.status == "created"
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 0


def test_a_stale_timestamp_is_refused_even_with_a_valid_signature(
    auth_api, top_up, browser, post_webhook
):
    browser.pay(top_up.provider_ref, CARD_OK)
    body = event_for(browser.intent(top_up.provider_ref), "payment_intent.succeeded")

    response = post_webhook(body, sign(body, timestamp=int(time.time()) - 3600))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 0


def test_a_declined_card_credits_nothing_and_says_why_in_french(
    client, auth_api, top_up, browser, deliver
):
    status, body = browser.pay(top_up.provider_ref, CARD_DECLINED)
    assert status == 402, body

    deliver("payment_intent.payment_failed", top_up.provider_ref)

    top_up.refresh_from_db()
    assert top_up.status == "failed"
    message = "Paiement refusé par votre banque : aucun montant n’a été crédité."
    assert top_up.failure_message == message
    assert auth_api.get(f"/api/v1/wallet/top-ups/{top_up.pk}").json()["failure_message"] == message
    client.force_login(auth_api.user)
    assert message in client.get(f"/porte-monnaie/recharger/{top_up.pk}/").content.decode()
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 0
    assert not LedgerTransaction.objects.exists()


def test_three_d_secure_credits_only_once_authenticated(
    auth_api, top_up, browser, deliver, post_webhook
):
    status, intent = browser.pay(top_up.provider_ref, CARD_3DS)
    assert (status, intent["status"]) == (200, "requires_action")
    # localstripe sends no requires_action event: ours, about its real intent, signed.
    requires_action = event_for(intent, "payment_intent.requires_action")
    assert post_webhook(requires_action, sign(requires_action)).status_code == 200
    top_up.refresh_from_db()
    assert top_up.status == "requires_action"
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 0
    assert auth_api.get(f"/api/v1/wallet/top-ups/{top_up.pk}").json()["payment"] is not None

    authenticated = browser.authenticate(top_up.provider_ref, top_up.client_secret, success=True)
    assert authenticated["status"] == "succeeded"
    deliver("payment_intent.succeeded", top_up.provider_ref)
    again = event_for(
        browser.intent(top_up.provider_ref), "payment_intent.succeeded", event_id="evt_again"
    )
    post_webhook(again, sign(again))

    top_up.refresh_from_db()
    assert top_up.status == "succeeded"
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 2000
    assert LedgerTransaction.objects.count() == 1


def test_a_retry_after_a_decline_on_the_same_intent_is_credited(
    auth_api, top_up, browser, deliver, post_webhook
):
    browser.pay(top_up.provider_ref, CARD_DECLINED)
    deliver("payment_intent.payment_failed", top_up.provider_ref)
    # Stripe's Payment Element lets the parent retry the same intent with another card at once;
    # localstripe cannot confirm an intent again after a declined charge, so its success is ours.
    intent = {**browser.intent(top_up.provider_ref), "status": "succeeded"}
    succeeded = event_for(intent, "payment_intent.succeeded")
    assert post_webhook(succeeded, sign(succeeded)).status_code == 200

    top_up.refresh_from_db()
    assert top_up.status == "succeeded" and top_up.failure_message == ""
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 2000


def test_an_amount_that_does_not_match_ours_is_not_credited(
    auth_api, top_up, browser, post_webhook
):
    intent = browser.intent(top_up.provider_ref)
    body = event_for(
        {**intent, "amount": 50_000, "status": "succeeded"}, "payment_intent.succeeded"
    )

    assert post_webhook(body, sign(body)).status_code == 200

    top_up.refresh_from_db()
    assert top_up.status == "created"
    assert not LedgerTransaction.objects.exists()


def test_events_about_unknown_intents_are_kept_unprocessed_and_other_objects_ignored(
    auth_api, top_up, browser, post_webhook
):
    foreign = event_for({"id": "pi_not_ours", "object": "payment_intent", "amount": 2000,
                         "currency": "eur", "status": "succeeded"}, "payment_intent.succeeded")  # fmt: skip
    customer = json.dumps(
        {"id": "evt_customer", "object": "event", "type": "customer.created",
         "created": int(time.time()), "data": {"object": {"id": "cus_1", "object": "customer"}}}
    ).encode()  # fmt: skip

    for body in (foreign, customer):
        assert post_webhook(body, sign(body)).status_code == 200

    # The customer event moves no payment: done. The unknown intent is kept to be matched later.
    assert WebhookEvent.objects.get(event_id="evt_customer").processed_at is not None
    pending = WebhookEvent.objects.get(payment_ref="pi_not_ours")
    assert pending.processed_at is None
    assert not LedgerTransaction.objects.exists()


def test_an_event_that_outruns_the_saved_reference_is_matched_by_its_metadata(
    auth_api, top_up, browser, webhook_inbox, post_webhook
):
    """Stripe may send payment_intent.succeeded before our row holds the intent's id."""
    ref = top_up.provider_ref
    browser.pay(ref, CARD_OK)
    delivery = webhook_inbox.wait_for("payment_intent.succeeded", ref)
    Payment.objects.filter(pk=top_up.pk).update(provider_ref=None)  # not saved yet

    assert post_webhook(delivery.body, delivery.signature).status_code == 200

    top_up.refresh_from_db()
    assert (top_up.status, top_up.provider_ref) == ("succeeded", ref)
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 2000


def test_an_event_matching_no_payment_yet_is_applied_once_it_can_be(
    auth_api, top_up, browser, webhook_inbox, post_webhook, send_mail_now
):
    """Nothing a provider confirms is lost: an unmatched event is retried by the beat job."""
    from shared_apps.payments.services import retry_unmatched_webhook_events

    ref = top_up.provider_ref
    browser.pay(ref, CARD_OK)
    delivery = webhook_inbox.wait_for("payment_intent.succeeded", ref)
    # Neither the reference nor the payment id in the metadata matches (another process
    # has not committed the payment row's reference yet, and the id points elsewhere).
    Payment.objects.filter(pk=top_up.pk).update(provider_ref="pi_placeholder")
    assert post_webhook(delivery.body, delivery.signature).status_code == 200
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 0
    assert WebhookEvent.objects.get(payment_ref=ref).processed_at is None

    assert retry_unmatched_webhook_events() == 1  # still nothing to match: kept again
    Payment.objects.filter(pk=top_up.pk).update(provider_ref=ref)
    with send_mail_now():
        assert retry_unmatched_webhook_events() == 0

    top_up.refresh_from_db()
    assert top_up.status == "succeeded"
    assert _balances(auth_api.user)[("service", "commune-a", 7)] == 2000
    assert retry_unmatched_webhook_events() == 0  # and never twice
    assert LedgerTransaction.objects.filter(source_key=f"topup:{top_up.pk}").count() == 1


def test_the_webhook_needs_no_login_nor_csrf_token(top_up, browser, webhook_inbox, send_mail_now):
    from django.test import Client

    browser.pay(top_up.provider_ref, CARD_OK)
    delivery = webhook_inbox.wait_for("payment_intent.succeeded", top_up.provider_ref)
    strict = Client(enforce_csrf_checks=True)

    with send_mail_now():
        response = strict.post(
            "/api/v1/payments/stripe/webhook",
            delivery.body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=delivery.signature,
        )

    assert response.status_code == 200
    top_up.refresh_from_db()
    assert top_up.status == "succeeded"
