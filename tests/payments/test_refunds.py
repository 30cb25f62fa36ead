"""Refunds to the card: taken back from the pocket the top-up credited, once per refund key."""

from __future__ import annotations

import pytest

from shared_apps.families.selectors import family_id_of
from shared_apps.payments.errors import NotRefundable, RefundKeyReused, RefundRefused
from shared_apps.payments.models import Payment, Refund
from shared_apps.payments.services import refund_to_card
from shared_apps.wallet.errors import InsufficientBalance
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from shared_apps.wallet.services import pay_from_wallet
from tests.payments.offline import CARD_OK, event_for, sign

pytestmark = pytest.mark.django_db


def _canteen_balance(user) -> int:
    return {
        (p.commune_slug, p.service_id): p.balance_cents for p in pockets_of(family_id_of(user))
    }[("commune-a", 7)]


@pytest.fixture
def paid_top_up(auth_api, family, cantine, browser, post_webhook) -> Payment:
    """20 € paid at localstripe for Commune A's canteen, confirmed by a signed event."""
    response = auth_api.post(
        "/api/v1/wallet/top-ups",
        {"amount_cents": 2000, "scope": "service", "commune_slug": "commune-a", "service_id": 7},
    )
    payment = Payment.objects.get(pk=response.json()["id"])
    browser.pay(payment.provider_ref, CARD_OK)
    body = event_for(browser.intent(payment.provider_ref), "payment_intent.succeeded")
    assert post_webhook(body, sign(body)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    return payment


def test_a_refund_goes_back_to_the_card_and_out_of_the_pocket(auth_api, paid_top_up, browser):
    refund = refund_to_card(payment=paid_top_up, amount_cents=800, refund_key="r-1")

    assert refund.status == "succeeded" and refund.provider_ref.startswith("re_")
    assert [r["amount"] for r in browser.refunds_of(paid_top_up.provider_ref)] == [800]
    assert _canteen_balance(auth_api.user) == 1200
    ledger = LedgerTransaction.objects.get(source_key="cardrefund:r-1")
    assert ledger.kind == "card_refund" and refund.ledger_transaction == ledger


def test_the_same_refund_key_refunds_once(auth_api, paid_top_up, browser):
    first = refund_to_card(payment=paid_top_up, amount_cents=800, refund_key="r-1")
    second = refund_to_card(payment=paid_top_up, amount_cents=800, refund_key="r-1")

    assert first.pk == second.pk
    assert len(browser.refunds_of(paid_top_up.provider_ref)) == 1  # localstripe ignores keys
    assert Refund.objects.count() == 1
    assert _canteen_balance(auth_api.user) == 1200


def test_a_refund_key_cannot_be_reused_for_another_amount(paid_top_up):
    refund_to_card(payment=paid_top_up, amount_cents=800, refund_key="r-1")

    with pytest.raises(RefundKeyReused):
        refund_to_card(payment=paid_top_up, amount_cents=500, refund_key="r-1")


def test_refunds_never_exceed_what_was_paid(auth_api, paid_top_up, browser):
    refund_to_card(payment=paid_top_up, amount_cents=1500, refund_key="r-1")

    with pytest.raises(NotRefundable):
        refund_to_card(payment=paid_top_up, amount_cents=600, refund_key="r-2")
    refund_to_card(payment=paid_top_up, amount_cents=500, refund_key="r-3")

    assert sorted(r["amount"] for r in browser.refunds_of(paid_top_up.provider_ref)) == [500, 1500]
    assert _canteen_balance(auth_api.user) == 0


def test_credit_already_spent_cannot_be_refunded(auth_api, paid_top_up, commune_a, browser):
    pay_from_wallet(
        source_key="lunch",
        family_id=paid_top_up.family_id,
        commune=commune_a,
        service_id=7,
        amount_cents=1500,
        description="Repas",
    )

    with pytest.raises(InsufficientBalance):
        refund_to_card(payment=paid_top_up, amount_cents=1000, refund_key="r-1")

    assert not Refund.objects.exists()
    assert browser.refunds_of(paid_top_up.provider_ref) == []
    assert _canteen_balance(auth_api.user) == 500


def test_a_payment_not_succeeded_cannot_be_refunded(auth_api, family):
    response = auth_api.post("/api/v1/wallet/top-ups", {"amount_cents": 2000, "scope": "general"})
    payment = Payment.objects.get(pk=response.json()["id"])

    with pytest.raises(NotRefundable):
        refund_to_card(payment=payment, amount_cents=2000, refund_key="r-1")
    assert not Refund.objects.exists()


@pytest.mark.parametrize(("amount", "key"), [(0, "r-1"), (-5, "r-1"), (100, ""), (100, "k" * 201)])
def test_bad_refund_requests_are_refused(paid_top_up, amount, key):
    with pytest.raises(NotRefundable):
        refund_to_card(payment=paid_top_up, amount_cents=amount, refund_key=key)
    assert not Refund.objects.exists()


def test_a_refund_the_provider_refuses_puts_the_credit_back(auth_api, paid_top_up, settings):
    paid_top_up.provider_ref = "pi_unknown_at_stripe"  # localstripe answers 404: a refusal
    paid_top_up.save(update_fields=["provider_ref"])

    with pytest.raises(RefundRefused):
        refund_to_card(payment=paid_top_up, amount_cents=800, refund_key="r-1")

    refund = Refund.objects.get()
    assert refund.status == "failed"
    assert _canteen_balance(auth_api.user) == 2000
    assert set(
        LedgerTransaction.objects.filter(kind="card_refund").values_list("source_key", flat=True)
    ) == {"cardrefund:r-1", "cardrefund-reversal:r-1"}
    # Retrying the same key returns the failed refund; it does not debit again.
    assert refund_to_card(payment=paid_top_up, amount_cents=800, refund_key="r-1").pk == refund.pk
    assert _canteen_balance(auth_api.user) == 2000
