"""Writing a family's settled day after a cancellation, a closure or a released card order.

`rules.settle_day` decides (pure; `rules.places_of` reads the reservations into its `Place`s);
`apply` writes the decision back: new refund and late-fee totals on the reservations, and the
refunds that are money now posted to the family's service pocket. Callers hold the locks, taken
in the order `locks.py` states.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from shared_apps.wallet.services import refund_to_service_pocket
from tenant_apps.bookings import ledger_keys, rules
from tenant_apps.bookings.models import OrderStatus, PaymentChoice, Reservation

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune


def pocket_of(reservation: Reservation) -> str:
    """Where a refund on this (loaded) reservation goes: "invoice" (direct debit, not invoiced),
    "pending_card" (its card payment is pending: the pocket, once the money arrives) or
    "service" (the service's pocket, now)."""
    if reservation.paid_by == PaymentChoice.DIRECT_DEBIT:
        return "invoice"
    if reservation.order.status == OrderStatus.AWAITING_PAYMENT:
        return "pending_card"
    return "service"


def refund_split(
    settlement: rules.Settlement, reservations: Iterable[Reservation]
) -> dict[str, int]:
    """What a settlement gives back, per `pocket_of` its places (before `apply`): a day's
    refund may come from places paid differently (an earlier cancellation's kept share)."""
    by_pk = {r.pk: r for r in reservations}
    split: dict[str, int] = defaultdict(int)
    for pk, total in settlement.refund_cents.items():
        delta = total - by_pk[pk].refund_cents
        if delta > 0:
            split[pocket_of(by_pk[pk])] += delta
    return dict(split)


def apply(
    settlement: rules.Settlement,
    reservations: Iterable[Reservation],
    *,
    commune: Commune,
    description: str,
    user: User | None = None,
) -> int:
    """Write a settlement onto the day's (locked) reservations and post the refunds that are
    money now; returns the cents refunded to the pocket now.

    Wallet- and card-paid places of a paid order are refunded to the service's pocket (source
    key per refund step: ledger_keys.refund). A card order still awaiting its payment records
    the refund, and the payment's confirmation posts it (services.card_orders.fulfil_checkout).
    Direct-debit places only record what will not be invoiced.
    """
    by_pk = {r.pk: r for r in reservations}
    changed = set()
    posted = 0
    for pk, fee in settlement.late_fee_cents.items():
        by_pk[pk].late_fee_cents = fee
        changed.add(pk)
    for pk, total in sorted(settlement.refund_cents.items()):
        reservation = by_pk[pk]
        delta = total - reservation.refund_cents
        reservation.refund_cents = total
        changed.add(pk)
        if (
            delta > 0
            and reservation.paid_by in (PaymentChoice.WALLET, PaymentChoice.CARD)
            and reservation.order.status == OrderStatus.PAID
        ):
            refund_to_service_pocket(
                source_key=ledger_keys.refund(commune, pk, total),
                family_id=reservation.family_id,
                commune=commune,
                service_id=reservation.product.service_id,
                amount_cents=delta,
                description=description,
                created_by=user,
            )
            posted += delta
    if changed:
        Reservation.objects.bulk_update(
            [by_pk[pk] for pk in sorted(changed)], ["refund_cents", "late_fee_cents"]
        )
    return posted
