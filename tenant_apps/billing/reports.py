"""What commune staff read of a month's invoicing: its invoices with their states, the credit
notes and payments, the failed debits to follow up, and the totals per service beside the
ledger's figures for the same month — one `MonthReport` for the page, its CSV/XLSX exports and
the staff API, so the three always say the same thing.

The ledger side is computed from `Posting` rows only: the postings on this commune's
receivable accounts whose transaction is tagged with the month of the days of care it is about
(`services.receivables.month_tag`: bookings charged, cancellations and credit notes credited,
invoices settled by a debit, a card or the wallet). The invoice side is computed from the
invoices' lines, credit notes and collection states. An "écart" is any difference between the
two: days booked and not invoiced, a movement the ledger missed, an invoice paid that settled
less than it should.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from shared_apps.common.exports import Sheet
from shared_apps.payments.models import Payment, PaymentStatus
from shared_apps.wallet.models import AccountKind, Posting, TransactionKind
from tenant_apps.billing.models import (
    Collection,
    CollectionMethod,
    CreditDestination,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceRun,
    LineKind,
)
from tenant_apps.billing.services.collection import InvoiceState, invoice_states
from tenant_apps.catalog.models import Service
from tenants.models import Commune

MONEY = "Montant (€)"
EXPORT_TABLES = ("factures", "avoirs", "paiements", "rejets", "totaux")


def euros(cents: int) -> Decimal:
    """Cents as a Decimal of euros (a number in the XLSX, "15,50" in the CSV)."""
    return Decimal(cents).scaleb(-2)


@dataclass
class ServiceTotals:
    """One service's month, from the invoices and from the ledger (cents, ≥ 0)."""

    service_id: int
    name: str
    invoiced_charged: int = 0  # reservation lines
    invoiced_credited: int = 0  # cancellation lines + credit notes deducted from what is owed
    invoiced_settled: int = 0  # what the paid invoices settled
    ledger_charged: int = 0  # receivables charged (days booked by direct debit)
    ledger_credited: int = 0  # receivables credited (cancellations, credit notes)
    ledger_settled: int = 0  # receivables settled (debit, card, wallet)

    @property
    def invoiced_due(self) -> int:
        return self.invoiced_charged - self.invoiced_credited

    @property
    def ledger_due(self) -> int:
        return self.ledger_charged - self.ledger_credited

    @property
    def gap_due(self) -> int:
        """Ledger's net owed less the invoices' net: ≠ 0 is an écart."""
        return self.ledger_due - self.invoiced_due

    @property
    def gap_settled(self) -> int:
        return self.ledger_settled - self.invoiced_settled

    @property
    def differs(self) -> bool:
        return bool(self.gap_due or self.gap_settled)


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    state: InvoiceState
    credited_cents: int  # its credit notes
    due_cents: int  # what remains to pay (0 once paid or credited in full)


@dataclass(frozen=True)
class PaymentRow:
    """One attempt to collect an invoice: a debit, a card payment or the wallet."""

    invoice: Invoice
    method: str  # label
    created_at: datetime.datetime
    amount_cents: int
    status: str  # label
    succeeded: bool
    failure: str
    reference: str


@dataclass
class MonthReport:
    month: datetime.date
    invoiced: bool  # the month's invoicing run happened
    rows: list[InvoiceRow]
    notes: list[CreditNote]
    payments: list[PaymentRow]
    totals: list[ServiceTotals]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[InvoiceRow]:
        """The failed debits to follow up: still to pay, last attempt rejected."""
        return [r for r in self.rows if r.state.code == "failed"]

    @property
    def invoiced_cents(self) -> int:
        return sum(r.invoice.total_cents for r in self.rows)

    @property
    def differs(self) -> bool:
        return any(t.differs for t in self.totals)

    def sheets(self) -> dict[str, Sheet]:
        """The accountant's tables (EXPORT_TABLES), each ending with its total row."""
        when = _local
        return {
            "factures": Sheet(
                "Factures",
                [
                    "N° de facture",
                    "Mois",
                    "Famille",
                    "N° de famille",
                    "Émise le",
                    "Montant (€)",
                    "Avoirs (€)",
                    "Reste à payer (€)",
                    "État",
                    "Motif de rejet",
                ],
                [
                    *(
                        [
                            r.invoice.number,
                            f"{r.invoice.month:%m/%Y}",
                            r.invoice.addressee,
                            r.invoice.family_id,
                            when(r.invoice.issued_at),
                            euros(r.invoice.total_cents),
                            euros(r.credited_cents),
                            euros(r.due_cents),
                            r.state.label,
                            r.state.failure,
                        ]
                        for r in self.rows
                    ),
                    [
                        "Total",
                        "",
                        "",
                        "",
                        "",
                        euros(self.invoiced_cents),
                        euros(sum(r.credited_cents for r in self.rows)),
                        euros(sum(r.due_cents for r in self.rows)),
                        "",
                        "",
                    ],
                ],
            ),
            "avoirs": Sheet(
                "Avoirs",
                ["N° d’avoir", "Facture", "Famille", "Émis le", MONEY, "Destination", "Motif"],
                [
                    *(
                        [
                            n.number,
                            n.invoice.number,
                            n.invoice.addressee,
                            when(n.issued_at),
                            euros(n.amount_cents),
                            n.get_destination_display(),
                            n.reason,
                        ]
                        for n in self.notes
                    ),
                    ["Total", "", "", "", euros(sum(n.amount_cents for n in self.notes)), "", ""],
                ],
            ),
            "paiements": Sheet(
                "Paiements",
                [
                    "Facture",
                    "Famille",
                    "Date",
                    "Mode",
                    MONEY,
                    "État",
                    "Motif de rejet",
                    "Référence",
                ],
                [
                    *(
                        [
                            p.invoice.number,
                            p.invoice.addressee,
                            when(p.created_at),
                            p.method,
                            euros(p.amount_cents),
                            p.status,
                            p.failure,
                            p.reference,
                        ]
                        for p in self.payments
                    ),
                    [
                        "Total encaissé",
                        "",
                        "",
                        "",
                        euros(sum(p.amount_cents for p in self.payments if p.succeeded)),
                        "",
                        "",
                        "",
                    ],
                ],
            ),
            "rejets": Sheet(
                "Prélèvements rejetés",
                ["Facture", "Famille", "N° de famille", "Rejeté le", "Reste à payer (€)", "Motif"],
                [
                    *(
                        [
                            r.invoice.number,
                            r.invoice.addressee,
                            r.invoice.family_id,
                            when(r.state.failed_at) if r.state.failed_at else "",
                            euros(r.due_cents),
                            r.state.failure,
                        ]
                        for r in self.failed
                    ),
                    ["Total", "", "", "", euros(sum(r.due_cents for r in self.failed)), ""],
                ],
            ),
            "totaux": Sheet(
                "Totaux par service",
                [
                    "Service",
                    "Factures : réservations (€)",
                    "Factures : annulations et avoirs (€)",
                    "Factures : net (€)",
                    "Factures : réglé (€)",
                    "Grand livre : débité (€)",
                    "Grand livre : crédité (€)",
                    "Grand livre : net (€)",
                    "Grand livre : réglé (€)",
                    "Écart net (€)",
                    "Écart réglé (€)",
                ],
                [
                    [
                        t.name,
                        euros(t.invoiced_charged),
                        euros(t.invoiced_credited),
                        euros(t.invoiced_due),
                        euros(t.invoiced_settled),
                        euros(t.ledger_charged),
                        euros(t.ledger_credited),
                        euros(t.ledger_due),
                        euros(t.ledger_settled),
                        euros(t.gap_due),
                        euros(t.gap_settled),
                    ]
                    for t in self.totals
                ],
            ),
        }


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def ledger_month_totals(commune: Commune, month: datetime.date) -> dict[int, dict[str, int]]:
    """{service id: {"charged", "credited", "settled"} in cents} of the receivables of this
    commune's families for the days of `month`: sums of Posting rows on receivable accounts
    whose transaction is tagged with the month; one query."""
    rows = (
        Posting.objects.filter(
            account__kind=AccountKind.RECEIVABLE,
            account__commune_id=commune.pk,
            transaction__metadata__month=f"{month:%Y-%m}",
        )
        .values("account__service_id", "transaction__kind")
        .annotate(total=Sum("amount_cents"))
    )
    names = {
        TransactionKind.CHARGE: "charged",
        TransactionKind.CHARGE_CREDIT: "credited",
        TransactionKind.COLLECTION: "settled",
    }
    result: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(names.values(), 0))
    for row in rows:
        name = names.get(row["transaction__kind"])
        if name is None:
            continue
        total = int(row["total"] or 0)
        # A charge makes the receivable more negative: shown as a positive amount owed.
        result[row["account__service_id"]][name] += -total if name == "charged" else total
    return dict(result)


def _collection_rows(
    commune: Commune, invoices: dict[int, Invoice], collections: list[Collection]
) -> list[PaymentRow]:
    """Every collection attempt of the invoices, oldest first (two queries)."""
    payments = {
        p.pk: p
        for p in Payment.objects.filter(
            pk__in=[c.payment_id for c in collections if c.payment_id]
        ).only(
            "pk",
            "status",
            "amount_cents",
            "failure_code",
            "failure_message",
            "provider_ref",
            "created_at",
        )
    }
    wallet_keys = {
        f"invoice-wallet:{commune.schema_name}:{c.invoice_id}": c.invoice_id
        for c in collections
        if c.method == CollectionMethod.WALLET
    }
    from_wallet = dict(
        Posting.objects.filter(
            transaction__source_key__in=list(wallet_keys), account__kind=AccountKind.RECEIVABLE
        )
        .values("transaction__source_key")
        .annotate(total=Sum("amount_cents"))
        .values_list("transaction__source_key", "total")
    )
    wallet_amounts = {wallet_keys[k]: int(v or 0) for k, v in from_wallet.items()}
    rows = []
    for c in collections:
        invoice = invoices[c.invoice_id]
        if c.method == CollectionMethod.WALLET:
            rows.append(
                PaymentRow(
                    invoice,
                    c.get_method_display(),
                    c.created_at,
                    wallet_amounts.get(c.invoice_id, 0),
                    "Payé",
                    True,
                    "",
                    "",
                )
            )
            continue
        payment = payments.get(c.payment_id or 0)
        if payment is None:
            continue  # being started (no provider reference yet)
        failure = ""
        if payment.status == PaymentStatus.FAILED:
            failure = payment.failure_message or "Refusé par la banque."
            if payment.failure_code:
                failure = f"{failure} (motif : {payment.failure_code})"
        rows.append(
            PaymentRow(
                invoice,
                c.get_method_display(),
                payment.created_at,
                payment.amount_cents,
                payment.get_status_display(),
                payment.status == PaymentStatus.SUCCEEDED,
                failure,
                payment.provider_ref or "",
            )
        )
    return rows


def month_report(commune: Commune, month: datetime.date) -> MonthReport:
    """The month's invoicing of this commune (see the module). A constant number of queries
    whatever the number of invoices (about a dozen)."""
    invoices = list(Invoice.objects.filter(month=month).order_by("sequence"))
    by_id = {i.pk: i for i in invoices}
    states = invoice_states(invoices)
    notes = list(
        CreditNote.objects.filter(invoice__in=invoices)
        .select_related("invoice")
        .order_by("sequence")
    )
    credited: dict[int, int] = defaultdict(int)
    deducted: dict[tuple[int, int], int] = defaultdict(int)  # (invoice, service): receivable
    for note in notes:
        credited[note.invoice_id] += note.amount_cents
        if note.destination == CreditDestination.RECEIVABLE:
            for service_id, cents in note.amounts.items():
                deducted[(note.invoice_id, int(service_id))] += int(cents)
    lines = (
        InvoiceLine.objects.filter(invoice__in=invoices)
        .values("invoice_id", "service_id", "kind")
        .annotate(total=Sum("amount_cents"))
    )
    services = dict(Service.objects.values_list("pk", "name"))
    totals: dict[int, ServiceTotals] = {}

    def of(service_id: int) -> ServiceTotals:
        if service_id not in totals:
            totals[service_id] = ServiceTotals(
                service_id, services.get(service_id, f"Service n° {service_id}")
            )
        return totals[service_id]

    net: dict[tuple[int, int], int] = defaultdict(int)
    for line in lines:
        cents = int(line["total"] or 0)
        t = of(line["service_id"])
        if line["kind"] == LineKind.CHARGE:
            t.invoiced_charged += cents
        else:
            t.invoiced_credited += -cents
        net[(line["invoice_id"], line["service_id"])] += cents
    for (_invoice_id, service_id), cents in deducted.items():
        of(service_id).invoiced_credited += cents
    for (invoice_id, service_id), cents in net.items():
        if states[invoice_id].code == "paid":
            of(service_id).invoiced_settled += max(
                0, cents - deducted.get((invoice_id, service_id), 0)
            )
    for service_id, figures in ledger_month_totals(commune, month).items():
        t = of(service_id)
        t.ledger_charged = figures["charged"]
        t.ledger_credited = figures["credited"]
        t.ledger_settled = figures["settled"]
    collections = list(Collection.objects.filter(invoice__in=invoices).order_by("created_at", "pk"))
    rows = []
    for invoice in invoices:
        state = states[invoice.pk]
        due = (
            0
            if state.code in ("paid", "credited")
            else max(0, invoice.total_cents - credited.get(invoice.pk, 0))
        )
        rows.append(InvoiceRow(invoice, state, credited.get(invoice.pk, 0), due))
    return MonthReport(
        month=month,
        invoiced=InvoiceRun.objects.filter(month=month).exists(),
        rows=rows,
        notes=notes,
        payments=_collection_rows(commune, by_id, collections),
        totals=sorted(totals.values(), key=lambda t: (t.name.lower(), t.service_id)),
        counts={
            code: sum(1 for r in rows if r.state.code == code)
            for code in ("paid", "pending", "failed", "unpaid", "credited")
        },
    )
