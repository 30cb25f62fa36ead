"""Credit notes (avoirs): a manager takes back part of an issued invoice with a reason; numbered
AV-<year>-<sequence> without gap; the invoice never changes; an unpaid invoice's debt goes down
(what is collected next is the rest), a paid invoice's amount goes back to the wallet pocket,
once; a payment in progress refuses it; as a PDF for the manager and the family only."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from shared_apps.common.errors import Conflict
from shared_apps.common.money import format_euros
from shared_apps.common.validation import InvalidInput
from shared_apps.payments.models import Payment
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from shared_apps.wallet.services import receivable_balances
from tenant_apps.billing.models import (
    Collection,
    CollectionMethod,
    CreditNote,
    Invoice,
    InvoiceCounter,
    Mandate,
)
from tenant_apps.billing.services.collection import invoice_states, pay_invoice_from_wallet
from tenant_apps.billing.services.credit_notes import due_amounts, issue_credit_note
from tenants.models import Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
LATER = datetime.datetime(2027, 1, 5, 9, tzinfo=datetime.UTC)


@pytest.fixture
def manager(commune_a):
    user = UserFactory()
    MembershipFactory(user=user, commune=commune_a, role=Role.MANAGER)
    return user


def _issue(commune, in_commune, manager, invoice, amount, reason="Repas non servi (grève)"):
    with in_commune(commune):
        return issue_credit_note(
            commune=commune,
            staff_user=manager,
            invoice_id=invoice.pk,
            amount=amount,
            reason=reason,
            now=LATER,
        )


def test_an_unpaid_invoice_owes_less_and_is_never_changed(
    invoiced, commune_a, in_commune, canteen, parent, manager
):
    mine, _ = invoiced
    owed = receivable_balances(parent.family.pk, commune_a)[canteen.service.pk]

    first = _issue(commune_a, in_commune, manager, mine, "1,50")
    second = _issue(commune_a, in_commune, manager, mine, 100)

    assert (first.number, second.number) == ("AV-2027-000001", "AV-2027-000002")
    assert first.destination == "receivable"
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == owed - 250
    with in_commune(commune_a):
        again = Invoice.objects.get(pk=mine.pk)
        assert (again.number, again.total_cents) == (mine.number, mine.total_cents)
        assert due_amounts(again) == {canteen.service.pk: mine.total_cents - 250}
        with pytest.raises(ValueError):
            again.save()
    keys = LedgerTransaction.objects.filter(source_key__startswith="avoir:")
    assert keys.count() == 2
    call_command("verify_ledger")


def test_more_than_remains_or_no_reason_is_refused_and_nothing_moves(
    invoiced, commune_a, in_commune, manager
):
    mine, _ = invoiced
    _issue(commune_a, in_commune, manager, mine, mine.total_cents - 100)
    before = LedgerTransaction.objects.count()

    with pytest.raises(InvalidInput) as too_much:
        _issue(commune_a, in_commune, manager, mine, 101)
    assert "1,00" in too_much.value.fields["amount"][0]
    with pytest.raises(InvalidInput) as no_reason:
        _issue(commune_a, in_commune, manager, mine, 50, reason="  ")
    assert "reason" in no_reason.value.fields
    with pytest.raises(InvalidInput):
        _issue(commune_a, in_commune, manager, mine, "-3")

    assert LedgerTransaction.objects.count() == before
    with in_commune(commune_a):
        assert CreditNote.objects.count() == 1
        assert InvoiceCounter.objects.get(name="credit_note").last_number == 1


def test_an_invoice_credited_in_full_is_settled_and_never_collected(
    invoiced, commune_a, in_commune, parent, manager
):
    mine, _ = invoiced
    _issue(commune_a, in_commune, manager, mine, mine.total_cents)

    with in_commune(commune_a):
        assert invoice_states([mine])[mine.pk].code == "credited"
        with pytest.raises(Conflict):
            pay_invoice_from_wallet(commune=commune_a, user=parent, invoice_id=mine.pk)


def test_a_paid_invoice_is_credited_to_the_wallet_pocket_once(
    invoiced, commune_a, in_commune, canteen, parent, manager
):
    mine, _ = invoiced
    start = sum(p.balance_cents for p in pockets_of(parent.family.pk))
    # A partial credit first: the wallet then pays only what remains.
    _issue(commune_a, in_commune, manager, mine, 200)
    with in_commune(commune_a):
        pay_invoice_from_wallet(commune=commune_a, user=parent, invoice_id=mine.pk)
    paid_out = start - (mine.total_cents - 200)
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == paid_out

    before = {p.label: p.balance_cents for p in pockets_of(parent.family.pk)}

    note = _issue(commune_a, in_commune, manager, mine, 300)

    assert note.destination == "wallet"
    pockets = {p.label: p.balance_cents for p in pockets_of(parent.family.pk)}
    assert sum(pockets.values()) == paid_out + 300
    grown = {label: cents - before.get(label, 0) for label, cents in pockets.items()}
    # The service's own pocket, not "Tous les services".
    [(label, cents)] = [(label, cents) for label, cents in grown.items() if cents]
    assert cents == 300 and label.endswith(commune_a.name)
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    call_command("verify_ledger")


def test_no_credit_note_while_a_debit_is_in_progress(
    invoiced, commune_a, in_commune, parent, manager
):
    mine, _ = invoiced
    from tests.fixtures.billing import give_mandate

    mandate: Mandate = give_mandate(commune_a, parent.family.pk)
    payment = Payment.objects.create(
        family_id=parent.family.pk,
        purpose="invoice",
        amount_cents=mine.total_cents,
        scope="service",
        commune=commune_a,
        metadata={"schema": commune_a.schema_name, "invoice_id": str(mine.pk)},
        provider="stripe",
        status="processing",
    )
    with in_commune(commune_a):
        Collection.objects.create(
            invoice=mine,
            mandate=mandate,
            method=CollectionMethod.SEPA_DEBIT,
            payment_id=payment.pk,
        )
    with pytest.raises(Conflict):
        _issue(commune_a, in_commune, manager, mine, 100)


def _pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def test_the_manager_issues_it_on_the_page_and_the_family_downloads_it(
    invoiced, client, commune_a, commune_b, in_commune, parent, manager
):
    mine, theirs = invoiced
    client.force_login(manager)
    listing = client.get("/c/commune-a/gestion/factures/?mois=2026-12").content.decode()
    assert f"/c/commune-a/gestion/factures/{mine.pk}/avoir/" in listing
    form = client.get(f"/c/commune-a/gestion/factures/{mine.pk}/avoir/")
    assert form.status_code == 200
    refused = client.post(
        f"/c/commune-a/gestion/factures/{mine.pk}/avoir/", {"amount": "abc", "reason": ""}
    )
    assert refused.status_code == 400
    assert "Indiquez un montant positif" in refused.content.decode()

    done = client.post(
        f"/c/commune-a/gestion/factures/{mine.pk}/avoir/",
        {"amount": "2,40", "reason": "Sortie scolaire : repas non servi"},
        follow=True,
    )
    with in_commune(commune_a):
        note = CreditNote.objects.get()
    assert f"Avoir {note.number} émis" in done.content.decode()
    staff_pdf = _pdf_text(client.get(f"/c/commune-a/gestion/avoirs/{note.pk}/pdf/"))
    for expected in (f"Avoir {note.number}", mine.number, "2,40 €", "Sortie scolaire"):
        assert expected in staff_pdf

    client.force_login(parent)
    page = client.get("/c/commune-a/factures/").content.decode()
    assert note.number in page
    remaining = format_euros(mine.total_cents - 240)
    assert f"Reste à payer après avoir : <strong>{remaining}</strong>" in page
    family_pdf = _pdf_text(client.get(f"/c/commune-a/avoirs/{note.pk}/pdf/"))
    assert "Montant de l’avoir : 2,40 €" in family_pdf
    assert client.get(f"/c/commune-a/gestion/factures/{mine.pk}/avoir/").status_code == 403

    # Another family, an agent who is not a manager, another commune's manager: refused.
    other_parent = UserFactory()
    client.force_login(other_parent)
    assert client.get(f"/c/commune-a/avoirs/{note.pk}/pdf/").status_code == 404
    agent = UserFactory()
    MembershipFactory(user=agent, commune=commune_a)
    client.force_login(agent)
    assert client.get(f"/c/commune-a/gestion/factures/{mine.pk}/avoir/").status_code == 403
    assert client.get(f"/c/commune-a/gestion/avoirs/{note.pk}/pdf/").status_code == 403
    manager_b = UserFactory()
    MembershipFactory(user=manager_b, commune=commune_b, role=Role.MANAGER)
    client.force_login(manager_b)
    assert client.get(f"/c/commune-b/gestion/factures/{mine.pk}/avoir/").status_code == 404
    assert client.get(f"/c/commune-b/gestion/avoirs/{note.pk}/pdf/").status_code == 404
    assert client.get(f"/c/commune-a/gestion/avoirs/{note.pk}/pdf/").status_code == 403
    assert (
        client.post(
            f"/c/commune-b/gestion/factures/{theirs.pk}/avoir/", {"amount": "1", "reason": "x"}
        ).status_code
        == 404
    )
    client.logout()
    assert client.get(f"/c/commune-a/avoirs/{note.pk}/pdf/").status_code == 302


def test_a_card_retried_after_a_credit_note_is_recorded_in_full_the_rest_to_the_pocket(
    stripe_offline, billing_webhooks, deliver, client, parent, canteen, commune_a, in_commune,
    manager, invoiced,
):  # fmt: skip
    """Stripe lets a declined card payment be retried on the same PaymentIntent: a credit note
    issued in between must not leave money taken by the provider out of the ledger."""
    from tests.payments.offline import CARD_DECLINED, Browser

    mine, _ = invoiced
    client.force_login(parent)
    assert client.post(f"/c/commune-a/factures/{mine.pk}/carte/").status_code == 302
    card = Payment.objects.get(metadata__method="card")
    Browser(stripe_offline).pay(card.provider_ref, CARD_DECLINED)  # declined: payment_failed
    deliver("payment_intent.payment_failed", card.provider_ref)
    with in_commune(commune_a):
        assert invoice_states([mine])[mine.pk].code == "failed"
    _issue(commune_a, in_commune, manager, mine, "1,00")
    owed = receivable_balances(parent.family.pk, commune_a)[canteen.service.pk]
    assert owed == card.amount_cents - 100
    pockets_before = sum(p.balance_cents for p in pockets_of(parent.family.pk))

    # Stripe would now let the card be retried on the same PaymentIntent for its full amount
    # (localstripe does not): what the webhook's fulfilment runs on success.
    from django.db import transaction

    from tenant_apps.billing.services.collection import settle_invoice_payment

    with transaction.atomic():
        settle_invoice_payment(card)

    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 0
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == pockets_before + 100
    settled = LedgerTransaction.objects.get(source_key=f"ddpaid:{card.pk}")
    assert sum(p.amount_cents for p in settled.postings.all() if p.amount_cents < 0) == -(
        card.amount_cents
    )
    call_command("verify_ledger")
