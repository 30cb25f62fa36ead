"""Simultaneous deliveries and refunds on real parallel connections: money moves once."""

from __future__ import annotations

import pytest
from django.test import Client

from shared_apps.families.services import get_or_create_family
from shared_apps.payments.models import Payment, Refund, WebhookEvent
from shared_apps.payments.services import refund_to_card, start_top_up
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from tests.factories import UserFactory
from tests.parallel import run_in_parallel
from tests.payments.offline import CARD_OK, event_for, sign

# Real connections: these tests share one xdist worker (pyproject's `--dist loadgroup`), so
# their threads never add up against PostgreSQL's max_connections.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("real_connections")]


@pytest.fixture
def paid_intent(browser):
    """A 30 € general top-up, paid at localstripe, not yet known to us as paid."""
    user = UserFactory()
    get_or_create_family(user)
    payment = start_top_up(user=user, amount_cents=3000, scope="general")
    browser.pay(payment.provider_ref, CARD_OK)
    payment.user = user
    return payment


def test_simultaneous_deliveries_of_success_credit_once(paid_intent, browser):
    intent = browser.intent(paid_intent.provider_ref)
    events = [
        event_for(intent, "payment_intent.succeeded", event_id=f"evt_{i % 3}") for i in range(9)
    ]

    def deliver(body):
        return lambda: (
            Client()
            .post(
                "/api/v1/payments/stripe/webhook",
                body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(body),
            )
            .status_code
        )

    results = run_in_parallel([deliver(body) for body in events])

    assert results == [200] * 9
    assert WebhookEvent.objects.count() == 3
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert LedgerTransaction.objects.filter(source_key=f"topup:{paid_intent.pk}").count() == 1
    assert Payment.objects.get(pk=paid_intent.pk).status == "succeeded"
    assert pockets_of(paid_intent.family_id)[0].balance_cents == 3000


def test_simultaneous_refunds_with_one_key_refund_once(paid_intent, browser):
    body = event_for(browser.intent(paid_intent.provider_ref), "payment_intent.succeeded")
    Client().post(
        "/api/v1/payments/stripe/webhook",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body),
    )
    payment = Payment.objects.get(pk=paid_intent.pk)
    assert payment.status == "succeeded"

    results = run_in_parallel(
        [
            lambda: refund_to_card(payment=payment, amount_cents=1000, refund_key="same").pk
            for _ in range(6)
        ]
    )

    assert len(set(results)) == 1 and not any(isinstance(r, Exception) for r in results)
    assert Refund.objects.count() == 1
    assert len(browser.refunds_of(payment.provider_ref)) == 1  # localstripe ignores keys
    assert pockets_of(payment.family_id)[0].balance_cents == 2000
