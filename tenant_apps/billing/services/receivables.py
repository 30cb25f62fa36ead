"""What families owe this commune's services for days booked by direct debit, in the ledger
(`shared_apps.wallet`: a receivable account per family, commune and service, ≤ 0).

Booking by direct debit charges the receivable (the service earns it now, the family pays it
with the month's invoice); a cancellation within the deadline, or a closure, credits back what
the rules give back (`rules.settle_day` → the reservations' refund_cents); a late cancellation
keeps what the late rule keeps. Each movement has one source key built here, so a replay moves
nothing twice. The reservations stay the source of the invoice's lines; the ledger holds the
money owed.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from shared_apps.wallet.services import charge_receivable, credit_receivable
from tenant_apps.bookings.models import PaymentChoice, Reservation

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenant_apps.bookings.models import Order
    from tenant_apps.catalog.models import Product
    from tenants.models import Commune


class _Priced(Protocol):
    product_id: int
    price_cents: int
    date: datetime.date


def month_tag(day: datetime.date) -> dict[str, str]:
    """The ledger metadata of a receivable's movement: the month of the days of care it is
    about ({"month": "2026-12"}), so that a month's invoices can be checked against the ledger
    (selectors.month_report) whenever the movement was posted."""
    return {"month": f"{day:%Y-%m}"}


def charge_key(commune: Commune, order_id: int, service_id: int, month: datetime.date) -> str:
    """A direct-debit order's share for one service and one month of days, owed by the family."""
    return f"ddcharge:{commune.schema_name}:{order_id}:{service_id}:{month:%Y-%m}"


def credit_key(commune: Commune, reservation_id: int, refund_total_cents: int) -> str:
    """The credit that brings a direct-debit reservation's non-invoiced part to
    `refund_total_cents` (totals only grow: one key per step, as ledger_keys.refund)."""
    return f"ddcredit:{commune.schema_name}:{reservation_id}:{refund_total_cents}"


def charge_order(
    *,
    commune: Commune,
    order: Order,
    items: Sequence[_Priced],
    products: dict[int, Product],
    user: User | None = None,
) -> int:
    """Post what a direct-debit order makes the family owe, one transaction per service and
    month of the days booked (free days post nothing), tagged with that month (`month_tag`).
    Inside place_order's transaction. Returns the cents charged."""
    per_service: Counter = Counter()
    for item in items:
        month = item.date.replace(day=1)
        per_service[(products[item.product_id].service_id, month)] += item.price_cents
    names = {p.service_id: p.service.name for p in products.values()}
    for (service_id, month), amount in sorted(per_service.items()):
        if amount:
            charge_receivable(
                source_key=charge_key(commune, order.pk, service_id, month),
                family_id=order.family_id,
                commune=commune,
                service_id=service_id,
                amount_cents=amount,
                description=f"Réservations {names[service_id]} de {month:%m/%Y} à facturer "
                f"(commande n° {order.pk})",
                created_by=user,
                metadata=month_tag(month),
            )
    return sum(per_service.values())


def direct_debit_refunds(day: Iterable[Reservation]) -> dict[int, int]:
    """{reservation id: refund_cents} of a family's day's direct-debit places, read before
    `settlement.apply` writes the new totals (see `credit_settled_day`)."""
    return {r.pk: r.refund_cents for r in day if r.paid_by == PaymentChoice.DIRECT_DEBIT}


def credit_settled_day(
    *,
    commune: Commune,
    day: Iterable[Reservation],
    before: dict[int, int],
    description: str,
    user: User | None = None,
) -> int:
    """After `settlement.apply`: credit each direct-debit place's receivable with what its
    refund total grew by (no longer to be invoiced). Returns the cents credited."""
    credited = 0
    for reservation in day:
        if reservation.pk not in before:
            continue
        delta = reservation.refund_cents - before[reservation.pk]
        if delta <= 0:
            continue
        credit_receivable(
            source_key=credit_key(commune, reservation.pk, reservation.refund_cents),
            family_id=reservation.family_id,
            commune=commune,
            service_id=reservation.product.service_id,
            amount_cents=delta,
            description=description,
            created_by=user,
            metadata=month_tag(reservation.date),
        )
        credited += delta
    return credited


def credit_missing_refunds(*, commune: Commune, reservations: Iterable[Reservation]) -> int:
    """Before invoicing: make the ledger agree with the reservations' refund totals.

    Every writer of a direct-debit refund in this commune's cancellations credits the
    receivable itself (`credit_settled_day`); a day re-settled elsewhere (a card order of a
    sibling released, an attendance correction) may raise a direct-debit place's refund_cents
    without it. Here each place's credited total is read from the ledger (the keys carry the
    cumulative total, one query) and what is missing is credited under the key of its current
    total, so a later writer of the same step moves nothing twice. Returns the cents credited.
    """
    from shared_apps.wallet.models import LedgerTransaction

    places = [r for r in reservations if r.paid_by == PaymentChoice.DIRECT_DEBIT and r.refund_cents]
    if not places:
        return 0
    prefix = f"ddcredit:{commune.schema_name}:"
    credited: dict[int, int] = {}
    for key in LedgerTransaction.objects.filter(source_key__startswith=prefix).values_list(
        "source_key", flat=True
    ):
        reservation_id, total = (int(part) for part in key[len(prefix) :].split(":"))
        credited[reservation_id] = max(credited.get(reservation_id, 0), total)
    posted = 0
    for reservation in places:
        missing = reservation.refund_cents - credited.get(reservation.pk, 0)
        if missing <= 0:
            continue
        credit_receivable(
            source_key=credit_key(commune, reservation.pk, reservation.refund_cents),
            family_id=reservation.family_id,
            commune=commune,
            service_id=reservation.product.service_id,
            amount_cents=missing,
            description=f"{reservation.product.name} du {reservation.date:%d/%m/%Y} : non facturé",
            metadata=month_tag(reservation.date),
        )
        posted += missing
    return posted
