"""Monthly invoices of this commune's post-paid (direct-debit) bookings.

`build_invoices` runs once per commune and month (a unique InvoiceRun row: a second run finds
the first and invoices nothing again, even racing it on another connection) and issues each
family's invoice: one line per child, day and product booked by direct debit, and a credit line
for what a cancellation gave back (the rules' refund_cents), numbered from the commune's
counter row locked FOR UPDATE in the same transaction, so numbers have no gap and no duplicate
(`2026-12-000042`: the invoiced month, then the commune's sequence). An issued invoice never
changes (models.Invoice.save); corrections will be credit notes. Each family is e-mailed
that its invoice is ready (after commit).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.celery import enqueue_on_commit
from shared_apps.common.money import format_euros
from shared_apps.common.validation import InvalidInput
from shared_apps.families.models import Child, Guardian
from tenant_apps.billing.models import (
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceRun,
    LineKind,
)
from tenant_apps.billing.services.receivables import credit_missing_refunds
from tenant_apps.bookings.models import PaymentChoice, Reservation, ReservationStatus
from tenants.services import assert_on_schema

if TYPE_CHECKING:
    from tenants.models import Commune


@dataclass(frozen=True)
class RunResult:
    run: InvoiceRun
    created: bool  # False: the month was invoiced already (by this run's twin)
    invoices: list[Invoice]


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def previous_month(today: datetime.date) -> datetime.date:
    return month_start(month_start(today) - datetime.timedelta(days=1))


def invoice_number(month: datetime.date, sequence: int) -> str:
    """ "2026-12-000042": the invoiced month and the commune's sequence (6 digits or more)."""
    return f"{month:%Y-%m}-{sequence:06d}"


def _claim_run(month: datetime.date) -> tuple[InvoiceRun, bool]:
    """This month's run row, created now (True) or found (False). A twin run inserting the same
    month waits on the unique index until the first commits, then finds its row."""
    try:
        with transaction.atomic():
            return InvoiceRun.objects.create(month=month), True
    except IntegrityError:
        return InvoiceRun.objects.get(month=month), False


def _lock_counter() -> InvoiceCounter:
    InvoiceCounter.objects.get_or_create(name="invoice")  # first invoice of the commune
    return InvoiceCounter.objects.select_for_update().get(name="invoice")


def _credit_label(reservation: Reservation) -> str:
    if reservation.status == ReservationStatus.CANCELLED:
        if reservation.refund_cents >= reservation.price_cents:
            return "Annulation (non facturée)"
        kept = reservation.price_cents - reservation.refund_cents
        return f"Annulation tardive ({format_euros(kept)} restent dus)"
    return "Réduction (jour recalculé)"


def _addressees(family_ids: list[int]) -> dict[int, tuple[str, str]]:
    """{family id: (guardians' names, first guardian's postal address)}; one query."""
    found: dict[int, list] = defaultdict(list)
    for guardian in (
        Guardian.objects.filter(family_id__in=family_ids)
        .select_related("user")
        .order_by("family_id", "pk")
    ):
        found[guardian.family_id].append(guardian.user)
    result = {}
    for family_id in family_ids:
        users = found.get(family_id, [])
        names = ", ".join(u.get_full_name() or u.email for u in users) or f"Famille n° {family_id}"
        result[family_id] = (names[:300], users[0].address if users else "")
    return result


def build_invoices(
    *, commune: Commune, month: datetime.date, now: datetime.datetime | None = None
) -> RunResult:
    """Invoice `month` (any day of it) for every family with days booked by direct debit.

    Once per commune and month: a second call (or a concurrent twin) returns the first run
    with created=False and issues nothing. A family whose month comes to 0 € (everything
    cancelled in time) gets no invoice. All or nothing: an error leaves no run, no number.
    Errors: InvalidInput when the month is not over yet (its days may still change).
    """
    assert_on_schema(commune)
    now = now or timezone.now()
    month = month_start(month)
    end = next_month(month)
    if end > timezone.localdate(now):
        raise InvalidInput(
            f"Le mois de {month:%m/%Y} n’est pas terminé : il sera facturé à partir du "
            f"{end:%d/%m/%Y}.",
            fields={"month": ["Choisissez un mois terminé."]},
        )
    with transaction.atomic():
        run, created = _claim_run(month)
        if not created:
            return RunResult(run, False, list(run.invoices.order_by("sequence")))
        counter = _lock_counter()
        already = InvoiceLine.objects.filter(kind=LineKind.CHARGE).values("reservation_id")
        reservations = list(
            Reservation.objects.filter(
                paid_by=PaymentChoice.DIRECT_DEBIT, date__gte=month, date__lt=end
            )
            .exclude(pk__in=already)
            .select_related("product")
            .order_by("family_id", "child_id", "date", "product_id", "pk")
        )
        # The ledger's receivables agree with the refunds about to be invoiced.
        credit_missing_refunds(commune=commune, reservations=reservations)
        by_family: dict[int, list[Reservation]] = defaultdict(list)
        for reservation in reservations:
            by_family[reservation.family_id].append(reservation)
        children = {
            c.pk: f"{c.first_name} {c.last_name}"
            for c in Child.objects.filter(pk__in={r.child_id for r in reservations})
        }
        addressees = _addressees(sorted(by_family))
        invoices: list[Invoice] = []
        lines: list[InvoiceLine] = []
        for family_id in sorted(by_family):
            family_lines = []
            for r in by_family[family_id]:
                common = {
                    "reservation_id": r.pk,
                    "child_id": r.child_id,
                    "child_name": children.get(r.child_id, f"Enfant n° {r.child_id}")[:300],
                    "date": r.date,
                    "product_name": r.product.name[:200],
                    "service_id": r.product.service_id,
                }
                if r.price_cents:
                    family_lines.append(
                        InvoiceLine(
                            kind=LineKind.CHARGE,
                            label="Réservation",
                            amount_cents=r.price_cents,
                            **common,
                        )
                    )
                if r.refund_cents:
                    family_lines.append(
                        InvoiceLine(
                            kind=LineKind.CREDIT,
                            label=_credit_label(r),
                            amount_cents=-r.refund_cents,
                            **common,
                        )
                    )
            total = sum(line.amount_cents for line in family_lines)
            if total <= 0:
                continue
            counter.last_number += 1
            name, address = addressees[family_id]
            invoice = Invoice.objects.create(
                number=invoice_number(month, counter.last_number),
                sequence=counter.last_number,
                run=run,
                family_id=family_id,
                month=month,
                issued_at=now,
                total_cents=total,
                addressee=name,
                address=address,
            )
            for line in family_lines:
                line.invoice = invoice
            lines.extend(family_lines)
            invoices.append(invoice)
        InvoiceLine.objects.bulk_create(lines)
        counter.save(update_fields=["last_number"])
        InvoiceRun.objects.filter(pk=run.pk).update(
            invoices_count=len(invoices), total_cents=sum(i.total_cents for i in invoices)
        )
        from tenant_apps.billing.tasks import send_invoice_email_task

        for invoice in invoices:  # once the numbers are committed
            enqueue_on_commit(send_invoice_email_task, commune.schema_name, invoice.pk)
    return RunResult(run, True, invoices)
