"""Credit notes (avoirs): a manager takes back part or all of an issued invoice, with a reason.

The invoice is never changed (models.Invoice.save); what remains to pay is its total less its
credit notes (`due_amounts`). Where the money goes, decided on the invoice's state under its
row lock, once per credit note (ledger source key "avoir:<schema>:<credit note>:<service>"):
- invoice still to pay (never collected, or its debit rejected): the family's receivable goes
  down (what it owes the service), so the next collection asks only for what remains; an invoice
  credited in full is settled ("Soldée par avoir") and never collected;
- invoice paid (debit, card or wallet): the amount goes back to the family's wallet pocket for
  that service (as a cancellation in time does), usable for the next bookings. Not to the bank
  account: a refund by transfer is the public accountant's act, outside Marelle;
- a debit or card payment in progress: refused (409) until the bank has answered, since the
  amount asked of the bank cannot change any more.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from shared_apps.common.errors import Conflict
from shared_apps.common.money import format_euros, parse_euros
from shared_apps.common.validation import FieldErrors, clean_text, parse_id
from shared_apps.wallet.services import credit_receivable, refund_to_service_pocket
from tenant_apps.billing.errors import InvoiceNotFound
from tenant_apps.billing.models import (
    CreditDestination,
    CreditNote,
    Invoice,
    InvoiceCounter,
)
from tenant_apps.billing.services.receivables import month_tag
from tenants.services import assert_on_schema, lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune

REASON_MAX_LENGTH = 500


class CreditWhileCollecting(Conflict):
    code = "invoice_being_collected"
    message = (
        "Un paiement de cette facture est en cours auprès de la banque : attendez sa réponse "
        "avant d’émettre un avoir."
    )


def credit_note_number(year: int, sequence: int) -> str:
    """ "AV-2026-000001": the year issued, then the commune's credit-note sequence."""
    return f"AV-{year}-{sequence:06d}"


def invoice_amounts(invoice: Invoice) -> dict[int, int]:
    """{service id: the invoice's net amount for it (lines and cancellations), > 0 only}."""
    amounts: dict[int, int] = defaultdict(int)
    for line in invoice.lines.all():
        amounts[line.service_id] += line.amount_cents
    return {k: v for k, v in amounts.items() if v > 0}


def credited_amounts(invoice: Invoice) -> dict[int, int]:
    """{service id: cents taken back by the invoice's credit notes}."""
    credited: dict[int, int] = defaultdict(int)
    for note in CreditNote.objects.filter(invoice=invoice).only("amounts"):
        for service_id, cents in note.amounts.items():
            credited[int(service_id)] += int(cents)
    return dict(credited)


def due_amounts(invoice: Invoice) -> dict[int, int]:
    """{service id: what remains to pay of the invoice for it}: its amounts less its credit
    notes, > 0 only (what a debit, a card or the wallet collects)."""
    credited = credited_amounts(invoice)
    due = {sid: cents - credited.get(sid, 0) for sid, cents in invoice_amounts(invoice).items()}
    return {sid: cents for sid, cents in due.items() if cents > 0}


def credited_totals(invoices: list[Invoice]) -> dict[int, int]:
    """{invoice id: cents of its credit notes}; one query for the list."""
    return dict(
        CreditNote.objects.filter(invoice__in=invoices)
        .values("invoice_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("invoice_id", "total")
    )


def _split(amount: int, remaining: dict[int, int]) -> dict[int, int]:
    """The credit's share per service: services in ascending id, each up to what remains."""
    shares, left = {}, amount
    for service_id in sorted(remaining):
        take = min(left, remaining[service_id])
        if take > 0:
            shares[service_id] = take
            left -= take
    return shares


def issue_credit_note(
    *,
    commune: Commune,
    staff_user: User,
    invoice_id: object,
    amount: object,
    reason: object,
    now: datetime.datetime | None = None,
) -> CreditNote:
    """A manager's avoir of `amount` (euros as typed: "12,50", or cents as an int) against the
    invoice, for `reason`. Numbered AV-<year>-<sequence> without gap (the counter row is locked
    in this transaction); the ledger moves once (see the module); the family is e-mailed the
    credit note's PDF once committed.

    Errors: InvoiceNotFound (not an invoice of this commune); InvalidInput (amount missing, not
    positive, or more than what remains; reason missing or too long); CreditWhileCollecting
    (a payment in progress); CommuneSuspended / CommuneInactive. Nothing is written on error.
    """
    from tenant_apps.billing.services.collection import invoice_states

    assert_on_schema(commune)
    now = now or timezone.now()
    errors = FieldErrors()
    cents = amount if isinstance(amount, int) else parse_euros(str(amount or ""))
    if cents is None or cents <= 0:
        errors.add("amount", "Indiquez un montant positif en euros (ex. 12,50).")
    text = clean_text(str(reason or ""), max_length=REASON_MAX_LENGTH)
    if not text:
        errors.add("reason", "Motif : ce champ est obligatoire.")
    elif len(text) > REASON_MAX_LENGTH:
        errors.add("reason", f"Motif : {REASON_MAX_LENGTH} caractères au maximum.")
    pk = parse_id(invoice_id)
    with transaction.atomic():
        lock_active_commune(commune)  # suspended or closed meanwhile: no credit, no refund
        invoice = (
            Invoice.objects.select_for_update().filter(pk=pk).first() if pk is not None else None
        )
        if invoice is None:
            raise InvoiceNotFound()
        errors.raise_if_any("L’avoir n’a pas été émis : corrigez les champs signalés.")
        state = invoice_states([invoice])[invoice.pk].code
        if state == "pending":
            raise CreditWhileCollecting()
        credited = credited_amounts(invoice)
        remaining = {
            sid: cents_ - credited.get(sid, 0) for sid, cents_ in invoice_amounts(invoice).items()
        }
        left = sum(v for v in remaining.values() if v > 0)
        assert cents is not None
        if cents > left:
            errors.add(
                "amount",
                f"Au plus {format_euros(left)} : c’est ce qui reste de la facture "
                f"{invoice.number} après ses avoirs.",
            )
            errors.raise_if_any("L’avoir n’a pas été émis : le montant dépasse le reste.")
        InvoiceCounter.objects.get_or_create(name="credit_note")
        counter = InvoiceCounter.objects.select_for_update().get(name="credit_note")
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        shares = _split(cents, remaining)
        paid = state == "paid"
        note = CreditNote.objects.create(
            number=credit_note_number(timezone.localdate(now).year, counter.last_number),
            sequence=counter.last_number,
            invoice=invoice,
            family_id=invoice.family_id,
            amount_cents=cents,
            amounts={str(k): v for k, v in shares.items()},
            reason=text,
            destination=CreditDestination.WALLET if paid else CreditDestination.RECEIVABLE,
            issued_at=now,
            issued_by=staff_user,
        )
        for service_id, share in sorted(shares.items()):
            key = f"avoir:{commune.schema_name}:{note.pk}:{service_id}"
            label = f"Avoir {note.number} sur la facture {invoice.number}"
            if paid:
                refund_to_service_pocket(
                    source_key=key,
                    family_id=invoice.family_id,
                    commune=commune,
                    service_id=service_id,
                    amount_cents=share,
                    description=label,
                    created_by=staff_user,
                )
            else:
                credit_receivable(
                    source_key=key,
                    family_id=invoice.family_id,
                    commune=commune,
                    service_id=service_id,
                    amount_cents=share,
                    description=label,
                    created_by=staff_user,
                    metadata={**month_tag(invoice.month), "credit_note_id": note.pk},
                )
        from config.celery import enqueue_on_commit
        from tenant_apps.billing.tasks import send_credit_note_email_task

        enqueue_on_commit(send_credit_note_email_task, commune.schema_name, note.pk)
    return note
