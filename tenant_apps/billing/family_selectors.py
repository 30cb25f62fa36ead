"""What a family's statement and its childcare attestation read in each commune's schema.

Public code (shared_apps.wallet.statements) calls these through settings (FAMILY_STATEMENT_HOOK,
FAMILY_CHILDCARE_HOOK), never importing tenant apps: each visits only the communes the family is
linked to (families.selectors.communes_of_family), a constant number of queries per commune, as
bookings.selectors.reservations_everywhere does.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum
from django_tenants.utils import tenant_context

from shared_apps.families.models import Child
from shared_apps.families.selectors import communes_of_family
from tenant_apps.billing.models import CreditNote, Invoice, InvoiceLine
from tenant_apps.billing.services.collection import invoice_states
from tenant_apps.bookings.models import PaymentChoice, Reservation
from tenant_apps.catalog.models import ServiceKind

# Services that are childcare ("frais de garde") for the tax credit; the canteen's meals are
# not (BOFiP BOI-IR-RICI-300-10-20: "les frais de nourriture" are excluded).
CHILDCARE_KINDS = (ServiceKind.GARDERIE, ServiceKind.PERISCOLAIRE, ServiceKind.CENTRE_LOISIRS)


@dataclass
class CommuneStatement:
    commune_name: str
    reservations: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    credit_notes: list[dict] = field(default_factory=list)


def statement_everywhere(
    family_id: int, start: datetime.date, end: datetime.date
) -> list[CommuneStatement]:
    """Per commune of the family: its reservations dated in [start, end] (every payment method,
    with what was paid, given back), its invoices issued in the period with their state, its
    credit notes issued in the period. Five queries per commune."""
    result = []
    for commune in communes_of_family(family_id):
        with tenant_context(commune):
            part = CommuneStatement(commune.name)
            reservations = list(
                Reservation.objects.filter(family_id=family_id, date__range=(start, end))
                .select_related("product")
                .order_by("date", "child_id", "pk")
            )
            names = {
                c.pk: c.first_name
                for c in Child.objects.filter(pk__in={r.child_id for r in reservations})
            }
            part.reservations = [
                {
                    "date": r.date,
                    "child": names.get(r.child_id, ""),
                    "product": r.product.name,
                    "paid_by": r.get_paid_by_display(),
                    "status": r.get_status_display(),
                    "price_cents": r.price_cents,
                    "refund_cents": r.refund_cents,
                }
                for r in reservations
            ]
            invoices = list(
                Invoice.objects.filter(
                    family_id=family_id,
                    issued_at__date__range=(start, end),
                ).order_by("sequence")
            )
            states = invoice_states(invoices)
            part.invoices = [
                {
                    "number": i.number,
                    "month": i.month,
                    "issued_at": i.issued_at,
                    "total_cents": i.total_cents,
                    "state": states[i.pk].label,
                }
                for i in invoices
            ]
            part.credit_notes = [
                {
                    "number": n.number,
                    "invoice": n.invoice.number,
                    "issued_at": n.issued_at,
                    "amount_cents": n.amount_cents,
                    "reason": n.reason,
                }
                for n in CreditNote.objects.filter(
                    family_id=family_id, issued_at__date__range=(start, end)
                )
                .select_related("invoice")
                .order_by("sequence")
            ]
        if part.reservations or part.invoices or part.credit_notes:
            result.append(part)
    return result


@dataclass(frozen=True)
class ChildcarePaid:
    commune_name: str
    child_id: int
    service_name: str
    days: int
    amount_cents: int


def _credited_per_line(
    paid_invoices: set[int], lines: dict[tuple[int, int, int], int]
) -> dict[tuple[int, int, int], int]:
    """{(invoice, service, child): cents of the invoice's credit notes for that child}: each
    note's share for a service split between the invoice's children of that service in
    proportion to what each was invoiced (rounded down; the rest to the last child, so the
    shares add up to the note's). `lines` is {(invoice, service, child): net invoiced}. Two
    queries."""
    if not paid_invoices:
        return {}
    credited: dict[tuple[int, int], int] = defaultdict(int)
    for note in CreditNote.objects.filter(invoice_id__in=paid_invoices).only(
        "invoice_id", "amounts"
    ):
        for service_id, cents in note.amounts.items():
            credited[(note.invoice_id, int(service_id))] += int(cents)
    if not credited:
        return {}
    nets: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for row in (
        InvoiceLine.objects.filter(invoice_id__in={i for i, _ in credited})
        .values("invoice_id", "service_id", "child_id")
        .annotate(net=Sum("amount_cents"))
        .order_by("invoice_id", "service_id", "child_id")
    ):
        if row["net"] > 0:
            nets[(row["invoice_id"], row["service_id"])].append((row["child_id"], row["net"]))
    shares: dict[tuple[int, int, int], int] = {}
    for (invoice_id, service_id), cents in credited.items():
        children = nets.get((invoice_id, service_id), [])
        total = sum(net for _, net in children)
        left = cents
        for index, (child_id, net) in enumerate(children):
            share = left if index == len(children) - 1 else cents * net // total
            shares[(invoice_id, service_id, child_id)] = share
            left -= share
    return {k: v for k, v in shares.items() if k in lines}


def childcare_paid_everywhere(
    family_id: int, year: int, child_ids: list[int]
) -> list[ChildcarePaid]:
    """What the family paid for the childcare of `child_ids` for `year`, per commune, child and
    service: each day of garderie, périscolaire or centre de loisirs **dated in the year** (the
    service's date, whenever it was paid: December's invoice paid in January counts for
    December's year), its price less what was given back (cancellation, absence), counted only
    once actually paid — at booking by wallet or card, with its invoice once that invoice is
    paid for a direct debit (an invoice not paid counts nothing) — less the credit notes of
    that invoice (`_credited_per_line`). Cantine meals are excluded. CAF and employer aids are
    not known here and not deducted (the attestation says so). Six queries per commune."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    result: list[ChildcarePaid] = []
    if not child_ids:
        return result
    for commune in communes_of_family(family_id):
        with tenant_context(commune):
            reservations = list(
                Reservation.objects.filter(
                    family_id=family_id,
                    child_id__in=child_ids,
                    date__range=(first, last),
                    product__service__kind__in=CHILDCARE_KINDS,
                )
                .select_related("product__service", "order")
                .order_by("pk")
            )
            debited = [r.pk for r in reservations if r.paid_by == PaymentChoice.DIRECT_DEBIT]
            invoice_of = dict(
                InvoiceLine.objects.filter(reservation_id__in=debited, kind="charge").values_list(
                    "reservation_id", "invoice_id"
                )
            )
            invoices = list(Invoice.objects.filter(pk__in=set(invoice_of.values())))
            paid_invoices = {
                pk for pk, state in invoice_states(invoices).items() if state.code == "paid"
            }
            totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
            invoiced: dict[tuple[int, int, int], int] = defaultdict(int)
            names: dict[int, str] = {}
            for r in reservations:
                if r.paid_by == PaymentChoice.DIRECT_DEBIT:
                    if invoice_of.get(r.pk) not in paid_invoices:
                        continue
                elif r.order.status != "paid":
                    continue
                net = r.price_cents - r.refund_cents
                if net <= 0:
                    continue
                key = (r.child_id, r.product.service.name)
                totals[key][0] += 1
                totals[key][1] += net
                names[r.product.service_id] = r.product.service.name
                if r.pk in invoice_of:
                    invoiced[(invoice_of[r.pk], r.product.service_id, r.child_id)] += net
            for (_invoice, service_id, child_id), cents in _credited_per_line(
                paid_invoices, invoiced
            ).items():
                totals[(child_id, names[service_id])][1] -= cents
            result += [
                ChildcarePaid(commune.name, child_id, service, days, max(0, cents))
                for (child_id, service), (days, cents) in sorted(totals.items())
            ]
    return result
