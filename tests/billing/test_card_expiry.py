"""An abandoned card payment of an invoice does not hold it forever: after
UNPAID_ORDER_MINUTES it counts as never made (the family pays again by card or from the
wallet), and a success the provider still reports later is settled exactly once — into the
receivable if it is still owed, into the family's pocket if the invoice was paid meanwhile."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings

from shared_apps.payments.models import PaymentStatus
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from shared_apps.wallet.services import receivable_balances
from tenant_apps.billing.services import collection as collection_services
from tenant_apps.billing.services.collection import (
    InvoiceAlreadyCollected,
    invoice_states,
    pay_invoice_by_card,
    pay_invoice_from_wallet,
)
from tests.fixtures.billing import provider_says, start_collection

pytestmark = pytest.mark.django_db

STARTED = datetime.datetime(2027, 1, 5, 9, tzinfo=datetime.UTC)


def _state(commune, in_commune, invoice):
    with in_commune(commune):
        return invoice_states([invoice])[invoice.pk].code


def _card(commune, invoice):
    with time_machine.travel(STARTED, tick=False):
        return start_collection(commune, invoice, method="card")


def _later(minutes):
    return time_machine.travel(STARTED + datetime.timedelta(minutes=minutes), tick=False)


def _pocket(parent, commune, service_id) -> int:
    return next(
        (p.balance_cents for p in pockets_of(parent.family.pk) if p.service_id == service_id), 0
    )


def test_a_card_started_holds_the_invoice_until_it_expires_then_the_wallet_pays(
    invoiced, commune_a, in_commune, parent, canteen
):
    mine, _ = invoiced
    card = _card(commune_a, mine)
    minutes = settings.UNPAID_ORDER_MINUTES
    with _later(minutes - 1):
        assert _state(commune_a, in_commune, mine) == "pending"
        with in_commune(commune_a), pytest.raises(InvoiceAlreadyCollected):
            pay_invoice_from_wallet(commune=commune_a, user=parent, invoice_id=mine.pk)
        with in_commune(commune_a):  # the same card payment is offered again, not a second
            assert pay_invoice_by_card(commune=commune_a, user=parent, invoice_id=mine.pk) == card
    with _later(minutes + 1):
        assert _state(commune_a, in_commune, mine) == "unpaid"
        with in_commune(commune_a):
            pay_invoice_from_wallet(commune=commune_a, user=parent, invoice_id=mine.pk)
        assert _state(commune_a, in_commune, mine) == "paid"
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    pocket_before = _pocket(parent, commune_a, canteen.service.pk)

    # The abandoned card was confirmed after all: recorded in full, once, into the pocket.
    with _later(minutes + 5):
        late = provider_says(card, "payment_intent.succeeded")
        again = provider_says(card, "payment_intent.succeeded", event_id="evt_test_replayed")
    assert late.status == again.status == PaymentStatus.SUCCEEDED
    assert LedgerTransaction.objects.filter(source_key=f"ddpaid:{card.pk}").count() == 1
    assert _pocket(parent, commune_a, canteen.service.pk) == pocket_before + card.amount_cents
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    assert _state(commune_a, in_commune, mine) == "paid"


def test_after_expiry_a_new_card_payment_starts_and_a_late_first_one_is_not_lost(
    invoiced, commune_a, in_commune, parent, canteen, monkeypatch
):
    mine, _ = invoiced
    first = _card(commune_a, mine)
    started = []

    def fake_start(**kwargs):  # the provider is not the point: a payment as it would start
        from shared_apps.payments.models import Payment

        payment = Payment.objects.create(
            family_id=kwargs["family_id"],
            purpose="invoice",
            amount_cents=kwargs["amount_cents"],
            scope="service",
            commune=kwargs["commune"],
            metadata={**kwargs["metadata"], "method": "card"},
            provider_ref=f"pi_test_second_{len(started)}",
            client_secret="pi_test_second_secret",
        )
        started.append(payment)
        return payment

    monkeypatch.setattr(collection_services, "start_invoice_card_payment", fake_start)
    with _later(settings.UNPAID_ORDER_MINUTES + 1), in_commune(commune_a):
        second = pay_invoice_by_card(commune=commune_a, user=parent, invoice_id=mine.pk)
    assert second != first and started == [second]
    assert _state(commune_a, in_commune, mine) == "pending"  # the new attempt holds it

    owed = receivable_balances(parent.family.pk, commune_a)[canteen.service.pk]
    pocket_before = _pocket(parent, commune_a, canteen.service.pk)
    provider_says(second, "payment_intent.succeeded")
    provider_says(first, "payment_intent.succeeded")  # both cards went through in the end
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    assert owed == mine.total_cents
    # The invoice settled once; the second payment's money is the family's, in its pocket.
    assert _pocket(parent, commune_a, canteen.service.pk) == pocket_before + first.amount_cents
    assert LedgerTransaction.objects.filter(source_key__startswith="ddpaid:").count() == 2
    assert _state(commune_a, in_commune, mine) == "paid"


def test_a_debit_in_progress_never_expires(invoiced, commune_a, in_commune):
    mine, _ = invoiced
    with time_machine.travel(STARTED, tick=False):
        start_collection(commune_a, mine)  # SEPA takes days: it stays pending
    with _later(60 * 24 * 5):
        assert _state(commune_a, in_commune, mine) == "pending"


def test_the_card_page_of_an_abandoned_payment_sends_the_family_back(
    invoiced, client, commune_a, parent
):
    mine, _ = invoiced
    card = _card(commune_a, mine)
    url = f"/c/commune-a/factures/{mine.pk}/carte/{card.pk}/"
    with _later(settings.UNPAID_ORDER_MINUTES + 1):
        client.force_login(parent)
        response = client.get(url, follow=True)
    assert response.redirect_chain[-1][0] == "/c/commune-a/factures/"
    page = response.content.decode()
    assert "pas été terminé à temps" in page
    assert f'Payer par carte<span class="visually-hidden"> la facture {mine.number}' in page
