"""Collecting invoices on the SEPA mandate (localstripe): pending until the signed webhook, paid
or failed by it only, forward only; a paid invoice settles the receivable once; a revoked mandate
is never debited."""

from __future__ import annotations

import pytest
import time_machine
from django.core.management import call_command

from shared_apps.payments.models import Payment, PaymentStatus
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from shared_apps.wallet.services import receivable_balances
from tenant_apps.billing.errors import NoActiveMandate
from tenant_apps.billing.models import Invoice, Mandate
from tenant_apps.billing.services.collection import (
    InvoiceAlreadyCollected,
    collect_invoice,
    invoice_states,
)
from tenant_apps.billing.services.invoicing import build_invoices
from tests.billing.conftest import IBAN_DEBIT_DECLINED, IBAN_OK
from tests.billing.invoicing import DECEMBER, JANUARY_2ND, THU, TUE
from tests.fixtures.billing import give_mandate, provider_says, start_collection
from tests.fixtures.bookings import NOW
from tests.payments.offline import event_for, sign

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"


def _mandate(parent, sepa, iban):
    started = parent.api.post(f"{BASE}/mandates").json()
    status, body = sepa.confirm(started["client_secret"], iban)
    assert status == 200, body
    mandate = parent.api.post(f"{BASE}/mandates/{started['mandate']['id']}/sync").json()
    assert mandate["status"] == "active"
    return mandate


def _invoice(parent, canteen, commune, in_commune):
    with time_machine.travel(NOW, tick=False):
        parent.api.post(
            f"{BASE}/cart/items",
            {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": [
                TUE.isoformat(), THU.isoformat()]},
        )  # fmt: skip
        response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "direct_debit"})
        assert response.status_code == 201, response.json()
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune):
        build_invoices(commune=commune, month=DECEMBER)
    with in_commune(commune):
        return Invoice.objects.get(family_id=parent.family.pk)


def _state(commune, in_commune, invoice):
    with in_commune(commune):
        return invoice_states([invoice])[invoice.pk]


def test_a_debit_is_pending_until_the_signed_webhook_says_paid(
    stripe_offline, sepa, deliver, parent, canteen, commune_a, in_commune
):
    _mandate(parent, sepa, IBAN_OK)
    invoice = _invoice(parent, canteen, commune_a, in_commune)
    assert invoice.total_cents == 760
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 760

    with in_commune(commune_a):
        payment = collect_invoice(commune=commune_a, invoice_id=invoice.pk)
        # Asked of the bank: pending, nothing settled, and not asked twice.
        assert _state(commune_a, in_commune, invoice).code == "pending"
        with pytest.raises(InvoiceAlreadyCollected):
            collect_invoice(commune=commune_a, invoice_id=invoice.pk)
    assert payment.provider_ref.startswith("pi_") and payment.status == PaymentStatus.CREATED
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 760

    deliver("payment_intent.succeeded", payment.provider_ref)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert _state(commune_a, in_commune, invoice).code == "paid"
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    assert LedgerTransaction.objects.filter(source_key=f"ddpaid:{payment.pk}").count() == 1
    call_command("verify_ledger")
    listed = parent.api.get(f"{BASE}/invoices").json()
    assert listed[0]["state"]["code"] == "paid"


def test_a_rejected_debit_is_failed_and_nothing_is_paid(
    stripe_offline, sepa, deliver, client, parent, canteen, commune_a, in_commune
):
    _mandate(parent, sepa, IBAN_DEBIT_DECLINED)
    invoice = _invoice(parent, canteen, commune_a, in_commune)
    with in_commune(commune_a):
        payment = collect_invoice(commune=commune_a, invoice_id=invoice.pk)

    deliver("payment_intent.payment_failed", payment.provider_ref)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    state = _state(commune_a, in_commune, invoice)
    assert state.code == "failed" and "Prélèvement rejeté par votre banque" in state.failure
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 760
    assert not LedgerTransaction.objects.filter(source_key__startswith="ddpaid:").exists()
    client.force_login(parent)
    page = client.get("/c/commune-a/factures/").content.decode()
    assert "Prélèvement rejeté" in page and "la facture reste à payer" in page
    from django.core import mail

    (sent,) = [m for m in mail.outbox if m.to == [parent.email]]
    assert sent.subject == f"Prélèvement rejeté : facture {invoice.number} (Commune A)"
    assert "/c/commune-a/factures/" in sent.body
    call_command("verify_ledger")


def test_a_late_failure_after_success_changes_nothing(
    stripe_offline, sepa, deliver, api, parent, canteen, commune_a, in_commune,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    _mandate(parent, sepa, IBAN_OK)
    invoice = _invoice(parent, canteen, commune_a, in_commune)
    with in_commune(commune_a):
        payment = collect_invoice(commune=commune_a, invoice_id=invoice.pk)
    delivery = deliver("payment_intent.succeeded", payment.provider_ref)
    intent = delivery.event["data"]["object"]

    late = event_for(
        {**intent, "status": "requires_payment_method"}, "payment_intent.payment_failed"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.generic(
            "POST", "/api/v1/payments/stripe/webhook", late,
            content_type="application/json; charset=utf-8", HTTP_STRIPE_SIGNATURE=sign(late),
        )  # fmt: skip
    assert response.status_code == 200
    # The success replayed: settled once.
    deliver("payment_intent.succeeded", payment.provider_ref)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert _state(commune_a, in_commune, invoice).code == "paid"
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    assert LedgerTransaction.objects.filter(source_key__startswith="ddpaid:").count() == 1
    call_command("verify_ledger")


def test_a_revoked_mandate_is_never_debited(
    stripe_offline, sepa, parent, canteen, commune_a, in_commune
):
    mandate = _mandate(parent, sepa, IBAN_OK)
    invoice = _invoice(parent, canteen, commune_a, in_commune)
    parent.api.post(f"{BASE}/mandates/{mandate['id']}/revoke")

    with in_commune(commune_a), pytest.raises(NoActiveMandate):
        collect_invoice(commune=commune_a, invoice_id=invoice.pk)

    assert not Payment.objects.exists()
    assert _state(commune_a, in_commune, invoice).code == "unpaid"
    with in_commune(commune_a):
        assert Mandate.objects.get(pk=mandate["id"]).collections.count() == 0


def _rejected(parent, sepa, deliver, canteen, commune, in_commune):
    _mandate(parent, sepa, IBAN_DEBIT_DECLINED)
    invoice = _invoice(parent, canteen, commune, in_commune)
    with in_commune(commune):
        payment = collect_invoice(commune=commune, invoice_id=invoice.pk)
    deliver("payment_intent.payment_failed", payment.provider_ref)
    return invoice


def _rejected_by_services(parent, canteen, commune, in_commune, send_mail_now):
    """As `_rejected`, without the provider's round trips (where they are not the point): the
    debit recorded as collect_invoice leaves it, its failure as the signed webhook says it."""
    give_mandate(commune, parent.family.pk, user=parent)
    invoice = _invoice(parent, canteen, commune, in_commune)
    with send_mail_now():
        provider_says(
            start_collection(commune, invoice),
            "payment_intent.payment_failed",
            failure_code="insufficient_funds",
        )
    return invoice


def test_a_rejected_invoice_is_paid_by_card_instead(
    stripe_offline, sepa, deliver, client, parent, canteen, commune_a, in_commune
):
    from tests.payments.offline import CARD_OK, Browser

    invoice = _rejected(parent, sepa, deliver, canteen, commune_a, in_commune)
    client.force_login(parent)
    response = client.post(f"/c/commune-a/factures/{invoice.pk}/carte/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    card_payment = Payment.objects.get(metadata__method="card")
    assert f'data-client-secret="{card_payment.client_secret}"' in page
    # Asking again offers the same payment, not a second one.
    assert (
        client.post(f"/c/commune-a/factures/{invoice.pk}/carte/")["Location"]
        == (response["Location"])
    )

    status, body = Browser(stripe_offline).pay(card_payment.provider_ref, CARD_OK)
    assert status == 200, body
    deliver("payment_intent.succeeded", card_payment.provider_ref)

    assert _state(commune_a, in_commune, invoice).code == "paid"
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000  # untouched
    refused = client.post(f"/c/commune-a/factures/{invoice.pk}/porte-monnaie/", follow=True)
    assert "déjà payée" in refused.content.decode()
    call_command("verify_ledger")


def test_a_rejected_invoice_is_paid_from_the_wallet_instead(
    client, parent, canteen, commune_a, in_commune, send_mail_now
):
    invoice = _rejected_by_services(parent, canteen, commune_a, in_commune, send_mail_now)
    client.force_login(parent)

    response = client.post(f"/c/commune-a/factures/{invoice.pk}/porte-monnaie/", follow=True)

    assert f"Facture {invoice.number} payée avec le porte-monnaie" in response.content.decode()
    assert _state(commune_a, in_commune, invoice).code == "paid"
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000 - 760
    again = client.post(f"/c/commune-a/factures/{invoice.pk}/porte-monnaie/", follow=True)
    assert "déjà payée" in again.content.decode()
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000 - 760
    call_command("verify_ledger")


def test_another_family_cannot_pay_or_see_an_invoice(
    stripe_offline, client, parent, canteen, commune_a, in_commune
):
    from tests.fixtures.bookings import make_family

    give_mandate(commune_a, parent.family.pk, user=parent)
    invoice = _invoice(parent, canteen, commune_a, in_commune)
    other = make_family(commune_a, in_commune, canteen.service, funds_cents=5000)
    client.force_login(other)
    for path in ("porte-monnaie/", "carte/"):
        assert client.post(f"/c/commune-a/factures/{invoice.pk}/{path}").status_code == 404
        assert client.post(f"/c/commune-b/factures/{invoice.pk}/{path}").status_code == 404
    assert client.get(f"/c/commune-a/factures/{invoice.pk}/carte/1/").status_code == 404
    assert _state(commune_a, in_commune, invoice).code == "unpaid"
    assert not Payment.objects.exists()


def test_staff_see_the_months_invoices_and_the_rejected_debits_to_follow(
    client, parent, canteen, commune_a, commune_b, in_commune, send_mail_now
):
    from shared_apps.audit.models import AuditEntry
    from tests.factories import MembershipFactory, UserFactory

    invoice = _rejected_by_services(parent, canteen, commune_a, in_commune, send_mail_now)
    agent = UserFactory()
    MembershipFactory(user=agent, commune=commune_a)
    client.force_login(agent)

    page = client.get("/c/commune-a/gestion/factures/?mois=2026-12").content.decode()

    assert "Prélèvements rejetés à suivre" in page
    assert invoice.number in page and invoice.addressee in page
    assert "motif : insufficient_funds" in page  # the bank's reason, as Stripe gives it
    assert "7,60" in page  # the month's total and the service's net
    assert AuditEntry.objects.filter(action="billing.invoices_view", actor=agent).exists()
    bad = client.get("/c/commune-a/gestion/factures/?mois=2026-13")
    assert bad.status_code == 200 and "Mois invalide" in bad.content.decode()

    staff_b = UserFactory()
    MembershipFactory(user=staff_b, commune=commune_b)
    client.force_login(staff_b)
    assert client.get("/c/commune-a/gestion/factures/?mois=2026-12").status_code == 403
    assert (
        invoice.number
        not in client.get("/c/commune-b/gestion/factures/?mois=2026-12").content.decode()
    )
    client.force_login(parent)
    assert client.get("/c/commune-a/gestion/factures/").status_code == 403
    client.logout()
    assert client.get("/c/commune-a/gestion/factures/").status_code == 302
