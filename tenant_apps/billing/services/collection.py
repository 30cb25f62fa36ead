"""Collecting invoices on the family's SEPA mandate (off-session debit) and settling them.

`collect_invoice` asks the provider for the debit; the invoice is paid only when a signed
notification says so (`settle_invoice_payment`, named in settings.PAYMENT_FULFILMENT_HOOKS):
then each service's receivable is settled against the direct-debit clearing account, once per
payment. A failed debit moves nothing in the ledger and leaves the invoice to pay; a success
is final (payments.models.can_move: a late failure cannot undo it). A revoked mandate is never
debited: only the family's active mandate is used, checked under the invoice's lock.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.common.errors import Conflict, DomainError
from shared_apps.common.validation import parse_id
from shared_apps.families.selectors import family_id_of
from shared_apps.payments.errors import PaymentProviderUnavailable
from shared_apps.payments.models import Payment, PaymentStatus
from shared_apps.payments.services import (
    direct_debit_setup_available,
    start_invoice_card_payment,
    start_mandate_debit,
)
from shared_apps.wallet.models import AccountKind
from shared_apps.wallet.services import pay_receivables_from_wallet, settle_receivables
from tenant_apps.billing.errors import InvoiceNotFound, NoActiveMandate
from tenant_apps.billing.models import (
    Collection,
    CollectionMethod,
    Invoice,
    Mandate,
    MandateStatus,
)
from tenant_apps.billing.services.credit_notes import due_amounts
from tenant_apps.billing.services.receivables import month_tag
from tenants.models import Commune
from tenants.services import CommuneSuspended, assert_on_schema, lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from shared_apps.wallet.models import LedgerTransaction

logger = logging.getLogger(__name__)


class InvoiceAlreadyCollected(Conflict):
    code = "invoice_already_collected"
    message = "Cette facture est déjà payée ou son prélèvement est en cours."


@dataclass(frozen=True)
class InvoiceState:
    code: str  # "unpaid", "pending", "paid", "failed"
    label: str
    failure: str = ""  # the bank's reason, in French, for a failed debit
    failed_at: datetime.datetime | None = None  # when the last failed attempt was recorded


_LABELS = {
    "unpaid": "À payer",
    "pending": "Prélèvement en cours",
    "paid": "Payée",
    "failed": "Prélèvement rejeté",
    "credited": "Soldée par avoir",
}


def card_attempt_expired(
    collection: Collection, payment: Payment | None, now: datetime.datetime
) -> bool:
    """A card payment of an invoice started and never completed (nothing confirmed: created or
    asking for 3-D Secure) is abandoned after settings.UNPAID_ORDER_MINUTES, as an unpaid card
    order is released (bookings.services.card_orders.release_unpaid_orders): it no longer
    holds the invoice, which may be paid again by card, from the wallet, or debited. Its
    payment is left as it is at the provider: a success that still arrives later is settled
    once (`settle_invoice_payment`, key "ddpaid:<payment>") and, if the invoice was paid
    meanwhile, the money goes to the family's pocket for the service — never lost, never
    counted twice."""
    if collection.method != CollectionMethod.CARD or payment is None:
        return False
    if payment.status not in (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION):
        return False
    cutoff = now - datetime.timedelta(minutes=settings.UNPAID_ORDER_MINUTES)
    return collection.created_at < cutoff


def invoice_states(
    invoices: list[Invoice], *, now: datetime.datetime | None = None
) -> dict[int, InvoiceState]:
    """Each invoice's collection state, from its attempts' payments and its credit notes (one
    credited in full and never paid is "credited": nothing to collect); three queries. A card
    attempt abandoned (`card_attempt_expired`) counts as never made."""
    from tenant_apps.billing.services.credit_notes import credited_totals

    now = now or timezone.now()
    credited = credited_totals(invoices) if invoices else {}
    collections = list(
        Collection.objects.filter(invoice__in=invoices).order_by("invoice_id", "created_at", "pk")
    )
    payments = {
        p.pk: p
        for p in Payment.objects.filter(
            pk__in=[c.payment_id for c in collections if c.payment_id]
        ).only("pk", "status", "failure_code", "failure_message", "updated_at")
    }
    attempts: dict[int, list[Payment | None]] = defaultdict(list)
    from_wallet = set()
    for collection in collections:
        if collection.method == CollectionMethod.WALLET:
            from_wallet.add(collection.invoice_id)  # paid at once, in the ledger
            continue
        payment = payments.get(collection.payment_id or 0)
        if card_attempt_expired(collection, payment, now):
            continue
        attempts[collection.invoice_id].append(payment)
    states = {}
    for invoice in invoices:
        tried = attempts.get(invoice.pk, [])
        statuses = [p.status if p else PaymentStatus.CREATED for p in tried]
        if PaymentStatus.SUCCEEDED in statuses or invoice.pk in from_wallet:
            code, failure = "paid", ""
        elif credited.get(invoice.pk, 0) >= invoice.total_cents and not any(
            s not in (PaymentStatus.FAILED, PaymentStatus.CANCELED) for s in statuses
        ):
            code, failure = "credited", ""
        elif any(s not in (PaymentStatus.FAILED, PaymentStatus.CANCELED) for s in statuses):
            code, failure = "pending", ""
        elif tried:
            last = tried[-1]
            code = "failed"
            failure = (last.failure_message if last else "") or "Refusé par la banque."
            if last and last.failure_code:
                failure = f"{failure} (motif : {last.failure_code})"
        else:
            code, failure = "unpaid", ""
        failed_at = tried[-1].updated_at if code == "failed" and tried and tried[-1] else None
        states[invoice.pk] = InvoiceState(code, _LABELS[code], failure, failed_at)
    return states


def collect_invoice(
    *, commune: Commune, invoice_id: int, now: datetime.datetime | None = None
) -> Payment:
    """Debit the invoice's total on the family's active mandate (off session).

    Errors: InvoiceNotFound; InvoiceAlreadyCollected (paid, or an attempt pending);
    NoActiveMandate (none, or revoked: nothing is asked of the bank);
    PaymentProviderUnavailable (the attempt is failed and may be retried); CommuneSuspended
    (nothing is asked of the bank while the commune is suspended), CommuneInactive.
    Must run outside a transaction (the provider is called after our rows are committed).
    """
    assert_on_schema(commune)
    if not direct_debit_setup_available():
        raise PaymentProviderUnavailable("Le prélèvement n’est pas disponible pour le moment.")
    with transaction.atomic():
        lock_active_commune(commune)  # a task queued before a suspension looks again here
        invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
        if invoice is None:
            raise InvoiceNotFound()
        if invoice_states([invoice])[invoice.pk].code in ("paid", "pending", "credited"):
            raise InvoiceAlreadyCollected()
        due_cents = sum(due_amounts(invoice).values())
        mandate = (
            Mandate.objects.select_for_update()
            .filter(family_id=invoice.family_id, status=MandateStatus.ACTIVE)
            .first()
        )
        if mandate is None:
            raise NoActiveMandate(
                "Aucun mandat SEPA actif pour cette famille : la facture reste à payer autrement."
            )
        collection = Collection.objects.create(
            invoice=invoice, mandate=mandate, method=CollectionMethod.SEPA_DEBIT
        )
    try:
        payment = start_mandate_debit(
            family_id=invoice.family_id,
            commune=commune,
            amount_cents=due_cents,
            customer_ref=mandate.customer_ref,
            payment_method_ref=mandate.payment_method_ref,
            metadata={
                "schema": commune.schema_name,
                "invoice_id": str(invoice.pk),
                "invoice_number": invoice.number,
                "collection_id": str(collection.pk),
            },
        )
    except DomainError:
        # Nothing reached the bank: no attempt is left behind, the invoice can be collected again.
        Collection.objects.filter(pk=collection.pk).delete()
        raise
    Collection.objects.filter(pk=collection.pk).update(payment_id=payment.pk)
    return payment


def collect_month(*, commune: Commune, month: datetime.date) -> int:
    """Start the debit of every invoice of `month` whose family has an active mandate and that
    is neither paid nor being collected; returns how many were started. Idempotent."""
    assert_on_schema(commune)
    started = 0
    invoices = list(Invoice.objects.filter(month=month).order_by("sequence"))
    states = invoice_states(invoices)
    active = set(
        Mandate.objects.filter(
            status=MandateStatus.ACTIVE, family_id__in={i.family_id for i in invoices}
        ).values_list("family_id", flat=True)
    )
    for invoice in invoices:
        if states[invoice.pk].code != "unpaid" or invoice.family_id not in active:
            continue
        try:
            collect_invoice(commune=commune, invoice_id=invoice.pk)
            started += 1
        except PaymentProviderUnavailable:
            logger.warning("%s: debits not started, provider unavailable", commune.schema_name)
            break  # the next run tries again
        except CommuneSuspended:
            logger.info("%s: suspended, no debit started", commune.schema_name)
            break  # the run after the resumption starts them
        except (InvoiceAlreadyCollected, NoActiveMandate):
            continue
    return started


def settle_invoice_payment(payment: Payment) -> LedgerTransaction:
    """settings.PAYMENT_FULFILMENT_HOOKS["invoice"]: the provider confirmed a debit (inside the
    webhook's transaction, public schema). Settle each service's receivable by its share of the
    invoice, once per payment (source key "ddpaid:<payment>")."""
    commune = Commune.objects.get(schema_name=str(payment.metadata.get("schema")))
    with tenant_context(commune):
        invoice = Invoice.objects.prefetch_related("lines").get(
            pk=int(payment.metadata["invoice_id"])
        )
        # What remains to pay; the payment's own amount is what arrived (more, when a credit
        # note came between a failed card attempt and its retry: the rest goes to the pocket).
        amounts = due_amounts(invoice)
        by_card = payment.metadata.get("method") == "card"
        return settle_receivables(
            source_key=f"ddpaid:{payment.pk}",
            family_id=invoice.family_id,
            commune=commune,
            amounts=amounts,
            description=f"Facture {invoice.number} "
            + ("payée par carte" if by_card else "prélevée"),
            clearing=AccountKind.CARD_CLEARING if by_card else AccountKind.DEBIT_CLEARING,
            received_cents=payment.amount_cents,
            metadata={**month_tag(invoice.month), "invoice_id": invoice.pk},
        )


def _own_unpaid_invoice(user: User, invoice_id: object, *, check: bool = True) -> Invoice:
    """The family's invoice, locked, still to pay (unpaid or its debit rejected)."""
    family_id = family_id_of(user)
    invoice = (
        Invoice.objects.select_for_update()
        .filter(family_id=family_id, pk=parse_id(invoice_id))  # type: ignore[misc]
        .first()
        if family_id is not None
        else None
    )
    if invoice is None:
        raise InvoiceNotFound()
    if check and invoice_states([invoice])[invoice.pk].code in ("paid", "pending", "credited"):
        raise InvoiceAlreadyCollected()
    return invoice


def _amounts_of(invoice: Invoice) -> dict[int, int]:
    """What remains to pay, per service (the invoice less its credit notes)."""
    return due_amounts(invoice)


def pay_invoice_from_wallet(*, commune: Commune, user: User, invoice_id: object) -> Invoice:
    """The family pays an invoice still to pay from its wallet (each service's pocket, then
    "tous services"), at once and all of it. Errors: InvoiceNotFound (not this family's here),
    InvoiceAlreadyCollected, InsufficientBalance (nothing moved), CommuneSuspended."""
    assert_on_schema(commune)
    with transaction.atomic():
        lock_active_commune(commune)
        invoice = _own_unpaid_invoice(user, invoice_id)
        pay_receivables_from_wallet(
            source_key=f"invoice-wallet:{commune.schema_name}:{invoice.pk}",
            family_id=invoice.family_id,
            commune=commune,
            amounts=_amounts_of(invoice),
            description=f"Facture {invoice.number} payée avec le porte-monnaie",
            created_by=user,
            metadata={**month_tag(invoice.month), "invoice_id": invoice.pk},
        )
        Collection.objects.create(invoice=invoice, method=CollectionMethod.WALLET)
    return invoice


def pay_invoice_by_card(*, commune: Commune, user: User, invoice_id: object) -> Payment:
    """Start a card payment of an invoice still to pay; it is paid when the signed webhook
    confirms. Errors: InvoiceNotFound, InvoiceAlreadyCollected, PaymentProviderUnavailable.
    Must run outside a transaction."""
    assert_on_schema(commune)
    with transaction.atomic():
        invoice = _own_unpaid_invoice(user, invoice_id, check=False)
        # A card payment started and not confirmed yet is offered again, never a second one —
        # unless it was abandoned (card_attempt_expired): then a new one starts.
        now = timezone.now()
        for collection in Collection.objects.filter(
            invoice=invoice, method=CollectionMethod.CARD, payment_id__isnull=False
        ):
            open_payment = Payment.objects.filter(pk=collection.payment_id or 0).first()
            if (
                open_payment is not None
                and open_payment.can_be_paid
                and not card_attempt_expired(collection, open_payment, now)
            ):
                return open_payment
        _own_unpaid_invoice(user, invoice_id)  # refused if paid or being collected
        collection = Collection.objects.create(invoice=invoice, method=CollectionMethod.CARD)
    try:
        payment = start_invoice_card_payment(
            user=user,
            family_id=invoice.family_id,
            amount_cents=sum(due_amounts(invoice).values()),
            commune=commune,
            metadata={
                "schema": commune.schema_name,
                "invoice_id": str(invoice.pk),
                "invoice_number": invoice.number,
                "collection_id": str(collection.pk),
            },
        )
    except DomainError:
        Collection.objects.filter(pk=collection.pk).delete()
        raise
    Collection.objects.filter(pk=collection.pk).update(payment_id=payment.pk)
    return payment


def on_invoice_payment_failed(payment: Payment) -> None:
    """settings.PAYMENT_FAILURE_HOOKS["invoice"]: a debit (or card payment) of an invoice failed.
    The family is e-mailed after commit (once: a payment fails only once, forward only)."""
    from config.celery import enqueue_on_commit
    from tenant_apps.billing.tasks import send_debit_failed_email_task

    schema = str(payment.metadata.get("schema") or "")
    invoice_id = parse_id(payment.metadata.get("invoice_id"))
    if schema and invoice_id is not None and payment.metadata.get("method") != "card":
        enqueue_on_commit(send_debit_failed_email_task, schema, invoice_id)
