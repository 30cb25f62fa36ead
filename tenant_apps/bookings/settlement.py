"""Settling a family's day after a cancellation, a closure or a released card order.

`rules.settle_day` decides (pure); this module reads the day's reservations into its `Place`s
and writes the decision back: new refund and late-fee totals on the reservations, and the refunds
that are money now posted to the family's service pocket.

Callers hold the locks, in the one order every booking path takes: the day counters, then the
day's reservations (`of=self`), then their orders, then (inside the wallet) the accounts.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import transaction

from shared_apps.wallet.services import refund_to_service_pocket
from tenant_apps.bookings import rules
from tenant_apps.bookings.models import (
    LIVE_STATUSES,
    Order,
    OrderStatus,
    PaymentChoice,
    Reservation,
)


def refund_source_key(commune, reservation_pk: int, refund_total_cents: int) -> str:
    """The ledger key of the refund that brings a reservation's refunds to `refund_total_cents`.

    Refund totals only grow, so each step has its own key and replaying a step moves nothing.
    A card order confirmed after cancellations posts their whole total under the same scheme.
    """
    return f"refund:{commune.schema_name}:{reservation_pk}:{refund_total_cents}"


def counts(reservation: Reservation) -> bool:
    """Whether a reservation holds money in its family's day: all but those of card orders
    released unpaid (they were never paid, their wallet part went back with the release)."""
    return reservation.order.status != OrderStatus.FAILED


def pocket_of(reservation: Reservation) -> str:
    """Where a refund on this (loaded) reservation goes: "invoice" (direct debit, not invoiced),
    "pending_card" (its card payment is pending: the pocket, once the money arrives) or
    "service" (the service's pocket, now)."""
    if reservation.paid_by == PaymentChoice.DIRECT_DEBIT:
        return "invoice"
    if reservation.order.status == OrderStatus.AWAITING_PAYMENT:
        return "pending_card"
    return "service"


def refund_split(settlement: rules.Settlement, reservations) -> dict[str, int]:
    """What a settlement gives back, per `pocket_of` its places (before `apply`): a day's
    refund may come from places paid differently (an earlier cancellation's kept share)."""
    by_pk = {r.pk: r for r in reservations}
    split: dict[str, int] = defaultdict(int)
    for pk, total in settlement.refund_cents.items():
        delta = total - by_pk[pk].refund_cents
        if delta > 0:
            split[pocket_of(by_pk[pk])] += delta
    return dict(split)


def places_of(reservations) -> list[rules.Place]:
    """The `Place`s of one family's day (reservations with their order loaded)."""
    return [
        rules.Place(
            key=r.pk,
            price_cents=r.price_cents,
            full_price_cents=r.full_price_cents,
            sibling_price_cents=r.sibling_price_cents,
            refund_cents=r.refund_cents,
            late_fee_cents=r.late_fee_cents,
            live=r.status in LIVE_STATUSES,
        )
        for r in reservations
        if counts(r)
    ]


def lock_days(keys) -> dict[tuple[int, int, datetime.date], list[Reservation]]:
    """Lock every reservation of the given (family, product, day)s, then their orders, in id
    order; return them per day with `order` holding the locked (fresh) order row. Must run
    inside a transaction, after the day counters are locked."""
    assert transaction.get_connection().in_atomic_block, "lock_days needs the caller's transaction"
    keys = set(keys)
    if not keys:
        return {}
    reservations = list(
        Reservation.objects.select_for_update(of=("self",))
        .filter(
            family_id__in={f for f, _, _ in keys},
            product_id__in={p for _, p, _ in keys},
            date__in={d for _, _, d in keys},
        )
        .select_related("product__service")
        .order_by("pk")
    )
    reservations = [r for r in reservations if (r.family_id, r.product_id, r.date) in keys]
    orders = {
        o.pk: o
        for o in Order.objects.select_for_update()
        .filter(pk__in={r.order_id for r in reservations})
        .order_by("pk")
    }
    days: dict[tuple[int, int, datetime.date], list[Reservation]] = defaultdict(list)
    for reservation in reservations:
        reservation.order = orders[reservation.order_id]
        days[(reservation.family_id, reservation.product_id, reservation.date)].append(reservation)
    return days


def apply(
    settlement: rules.Settlement, reservations, *, commune, description: str, user=None
) -> int:
    """Write a settlement onto the day's (locked) reservations and post the refunds that are
    money now; returns the cents refunded to the pocket now.

    Wallet- and card-paid places of a paid order are refunded to the service's pocket (source
    key per refund step). A card order still awaiting its payment records the refund, and the
    payment's confirmation posts it (card.fulfil_checkout). Direct-debit places only record
    what will not be invoiced.
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
                source_key=refund_source_key(commune, pk, total),
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
