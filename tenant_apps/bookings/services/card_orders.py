"""Use cases of orders paid by card, after checkout placed them: fulfil (the provider's webhook
confirmed the payment), release (never paid in time) and put back in the cart (the payment
could not even start).

The payment is started after the order holds its places, and the order is fulfilled only when
the provider's webhook confirms (never from the browser). Locks follow `locks.py`'s order.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.wallet import services as wallet
from shared_apps.wallet.models import LedgerTransaction, TransactionKind
from tenant_apps.bookings import ledger_keys, rules, settlement
from tenant_apps.bookings.locks import free_places, lock_counters, lock_days
from tenant_apps.bookings.models import Order, OrderStatus, Reservation, ReservationStatus
from tenant_apps.bookings.services.cart import cart_of_family, refill_cart
from tenants.services import assert_on_schema

if TYPE_CHECKING:
    from shared_apps.payments.models import Payment
    from tenants.models import Commune


def _shares(order: Order) -> Counter:
    """Each service's share of the order (every reservation it created)."""
    amounts: Counter = Counter()
    for service_id, price in order.reservations.values_list("product__service_id", "price_cents"):
        amounts[service_id] += price
    return amounts


def _card_parts(order: Order) -> Counter:
    return Counter({int(sid): cents for sid, cents in (order.card_by_service or {}).items()})


def fulfil_checkout(payment: Payment) -> LedgerTransaction | None:
    """Called by the payments app, inside its transaction, when a checkout payment succeeded
    (settings.PAYMENT_FULFILMENT_HOOKS); the commune is the payment's.

    The card part becomes the services' revenue and the order is paid; days cancelled while the
    payment was pending are refunded to the pocket now, and the order's days are settled (a
    sibling booked meanwhile at the full price, because a pending place does not count as a
    sibling, gets the overpaid part back). If the order was released meanwhile (paid too late),
    the card money is not lost: it goes to the family's pockets. Locks in the booking paths'
    order: day counters, the days' reservations and orders, then the wallet.
    """
    commune = payment.commune
    assert commune is not None, "a checkout payment names its commune (start_checkout_payment)"
    with tenant_context(commune):
        order_id = payment.metadata.get("order_id")
        order_rows = Reservation.objects.filter(order_id=order_id)
        lock_counters(list(order_rows.values_list("product_id", "date")))
        days = lock_days(order_rows.values_list("family_id", "product_id", "date"))
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:  # cannot happen, but card money is never left unrecorded
            ledger_transaction, _ = wallet.credit_top_up(
                source_key=ledger_keys.orphan_card_payment(payment.pk),
                family_id=payment.family_id,
                amount_cents=payment.amount_cents,
                description="Paiement par carte sans commande : crédité",
            )
            return ledger_transaction
        card_parts = _card_parts(order) or Counter({sid: c for sid, c in _shares(order).items()})
        last = None
        if order.status != OrderStatus.AWAITING_PAYMENT:
            # Released: its days were freed and the wallet part given back; the card part too.
            for service_id, amount in sorted(card_parts.items()):
                last, _ = wallet.credit_top_up(
                    source_key=ledger_keys.late_card_payment(payment.pk, service_id),
                    family_id=payment.family_id,
                    amount_cents=amount,
                    commune=commune,
                    service_id=service_id,
                    description="Paiement par carte arrivé après l’expiration de la commande : "
                    "crédité",
                )
            return last
        clearing = wallet.card_clearing_account()
        for service_id, amount in sorted(card_parts.items()):
            last, _ = wallet.post_transaction(
                source_key=ledger_keys.card_payment(payment.pk, service_id),
                kind=TransactionKind.SPEND,
                lines=[(clearing, -amount), (wallet.revenue_account(commune, service_id), amount)],
                description=f"Réservations payées par carte (commande n° {order.pk})",
                commune=commune,
                service_id=service_id,
            )
        # Refunds decided while the payment was pending (cancellations, a closure) were recorded
        # then, at the amount the deadline and late rule gave at that moment: now they are paid.
        for reservation in order.reservations.filter(refund_cents__gt=0).select_related("product"):
            last, _ = wallet.refund_to_service_pocket(
                source_key=ledger_keys.refund(commune, reservation.pk, reservation.refund_cents),
                family_id=order.family_id,
                commune=commune,
                service_id=reservation.product.service_id,
                amount_cents=reservation.refund_cents,
                description=f"Annulation {reservation.product.name} du "
                f"{reservation.date:%d/%m/%Y} (payée par carte)",
            )
        order.status = OrderStatus.PAID
        order.save(update_fields=["status"])
        for family_day in days.values():
            for reservation in family_day:
                if reservation.order_id == order.pk:
                    reservation.order = order
            settlement.apply(
                rules.settle_day(rules.places_of(family_day), cancelled=set()),
                family_day,
                commune=commune,
                description=f"Commande n° {order.pk} payée : tarif fratrie recalculé",
            )
        return last


def release_unpaid_orders(*, commune: Commune, now: datetime.datetime | None = None) -> int:
    """Give back the places of `commune`'s card orders never paid in time, each order in its
    own transaction. Returns how many were released."""
    assert_on_schema(commune)
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.UNPAID_ORDER_MINUTES)
    released = 0
    for order_id in Order.objects.filter(
        status=OrderStatus.AWAITING_PAYMENT, created_at__lt=cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            released += release_order(commune=commune, order_id=order_id, now=now)
    return released


def release_order(*, commune: Commune, order_id: int, now: datetime.datetime) -> bool:
    """Cancel an unpaid card order's reservations, free their places, give the wallet part back
    and settle the family's days without them. Inside the caller's transaction; locks in
    `locks.py`'s order (day counters, reservations, orders). Returns False (nothing done)
    when the order is no longer awaiting its payment (paid or released meanwhile)."""
    assert_on_schema(commune)
    order_rows = Reservation.objects.filter(order_id=order_id)
    lock_counters(order_rows.values_list("product_id", "date"))
    days = lock_days(order_rows.values_list("family_id", "product_id", "date"))
    order = Order.objects.select_for_update().get(pk=order_id)  # already locked by lock_days
    if order.status != OrderStatus.AWAITING_PAYMENT:
        return False
    order.status = OrderStatus.FAILED
    order.save(update_fields=["status"])
    released = []
    for family_day in days.values():
        for reservation in family_day:
            if reservation.order_id == order.pk:
                reservation.order = order
                if reservation.status == ReservationStatus.BOOKED:
                    reservation.status = ReservationStatus.CANCELLED
                    reservation.cancelled_at = now
                    released.append(reservation)
    Reservation.objects.bulk_update(released, ["status", "cancelled_at"])
    free_places([(r.product_id, r.date) for r in released])
    # The wallet part of an order never paid by card goes back to the pockets.
    card_parts = _card_parts(order)
    for service_id, share in sorted(_shares(order).items()):
        from_wallet = share - card_parts.get(service_id, 0)
        if from_wallet > 0:
            wallet.refund_to_service_pocket(
                source_key=ledger_keys.order_release(commune, order.pk, service_id),
                family_id=order.family_id,
                commune=commune,
                service_id=service_id,
                amount_cents=from_wallet,
                description=f"Commande n° {order.pk} non payée par carte : part du "
                "porte-monnaie rendue",
            )
    # Siblings' days are settled without the released places: what an earlier cancellation
    # kept for the sibling price comes back if no one else holds the day any more.
    for family_day in days.values():
        decided = rules.settle_day(rules.places_of(family_day), cancelled=set())
        settlement.apply(
            decided,
            family_day,
            commune=commune,
            description=f"Commande n° {order.pk} non payée : tarif fratrie recalculé",
        )
    return True


def put_order_back_in_cart(*, commune: Commune, order_id: int, now: datetime.datetime) -> None:
    """The card payment of a just-placed order could not start (provider down or refusing):
    undo the order as if "Payer" had never been pressed.

    Its days go back in the family's cart at the prices it held, their places are freed, the
    wallet part is given back (once: release_order's ledger key), and its reservations are
    removed, so "Mes réservations" shows no cancelled day that the parent never booked. The
    order itself stays, failed and empty, because the ledger lines name it. Runs in its own
    transaction; does nothing to an order no longer awaiting its card payment.
    """
    assert_on_schema(commune)
    with transaction.atomic():
        # The cart first, as checkout takes it (cart → day counters → …): no deadlock with a
        # second checkout of the same family.
        family_id = Order.objects.values_list("family_id", flat=True).get(pk=order_id)
        cart_of_family(family_id, now=now, lock=True)
        lines = list(
            Reservation.objects.filter(order_id=order_id, status=ReservationStatus.BOOKED).values(
                "child_id", "product_id", "variant_id", "date", "price_cents"
            )
        )
        # release_order takes the locks in the booking paths' order and re-checks the status.
        if not release_order(commune=commune, order_id=order_id, now=now):
            return
        Reservation.objects.filter(order_id=order_id).delete()
        refill_cart(family_id, lines, now=now)
