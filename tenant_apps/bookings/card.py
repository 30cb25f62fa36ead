"""Orders paid by card: the payment is started after the order holds its places, and the order
is fulfilled only when the provider's webhook confirms (never from the browser)."""

from __future__ import annotations

import datetime
from collections import Counter

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.wallet import services as wallet
from shared_apps.wallet.models import TransactionKind
from tenant_apps.bookings.models import DayCount, Order, OrderStatus, Reservation, ReservationStatus


def _shares(order: Order) -> Counter:
    """Each service's share of the order (every reservation it created)."""
    amounts: Counter = Counter()
    for service_id, price in order.reservations.values_list("product__service_id", "price_cents"):
        amounts[service_id] += price
    return amounts


def _card_parts(order: Order) -> Counter:
    return Counter({int(sid): cents for sid, cents in (order.card_by_service or {}).items()})


def fulfil_checkout(payment):
    """Called by the payments app, inside its transaction, when a checkout payment succeeded.

    The card part becomes the services' revenue and the order is paid; days cancelled while the
    payment was pending are refunded to the pocket now. If the order was released meanwhile
    (paid too late), the card money is not lost: it goes to the family's pockets.
    """
    commune = payment.commune
    with tenant_context(commune):
        order = (
            Order.objects.select_for_update().filter(pk=payment.metadata.get("order_id")).first()
        )
        if order is None:  # cannot happen, but card money is never left unrecorded
            ledger_transaction, _ = wallet.credit_top_up(
                source_key=f"cardpay-orphan:{payment.pk}",
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
                    source_key=f"cardpay-late:{payment.pk}:{service_id}",
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
                source_key=f"cardpay:{payment.pk}:{service_id}",
                kind=TransactionKind.SPEND,
                lines=[(clearing, -amount), (wallet.revenue_account(commune, service_id), amount)],
                description=f"Réservations payées par carte (commande n° {order.pk})",
                commune=commune,
                service_id=service_id,
            )
        # Days cancelled while the payment was pending were not refunded then: now they are.
        for reservation in order.reservations.exclude(
            status=ReservationStatus.BOOKED
        ).select_related("product"):
            last, _ = wallet.refund_to_service_pocket(
                source_key=f"cancel:{commune.schema_name}:{reservation.pk}",
                family_id=order.family_id,
                commune=commune,
                service_id=reservation.product.service_id,
                amount_cents=reservation.price_cents,
                description=f"Annulation {reservation.product.name} du "
                f"{reservation.date:%d/%m/%Y} (payée par carte)",
            )
        order.status = OrderStatus.PAID
        order.save(update_fields=["status"])
        return last


def release_unpaid_orders(*, now: datetime.datetime | None = None) -> int:
    """Give back the places of card orders never paid in time (runs in one commune's schema)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.UNPAID_ORDER_MINUTES)
    released = 0
    for order_id in Order.objects.filter(
        status=OrderStatus.AWAITING_PAYMENT, created_at__lt=cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.status != OrderStatus.AWAITING_PAYMENT:
                continue
            release_order(order, now=now)
            released += 1
    return released


def release_order(order: Order, *, now: datetime.datetime) -> None:
    """Cancel an unpaid order's reservations and free their places (inside a transaction)."""
    from tenant_apps.bookings.services import _lock_counters

    keys = list(
        Reservation.objects.filter(order=order, status=ReservationStatus.BOOKED).values_list(
            "product_id", "date"
        )
    )
    _lock_counters(keys)  # the same order as checkouts: no deadlock with them
    reservations = list(
        Reservation.objects.select_for_update(of=("self",))
        .filter(order=order, status=ReservationStatus.BOOKED)
        .order_by("pk")
    )
    for reservation in reservations:
        reservation.status = ReservationStatus.CANCELLED
        reservation.cancelled_at = now
    Reservation.objects.bulk_update(reservations, ["status", "cancelled_at"])
    for (product_id, day), count in sorted(
        Counter((r.product_id, r.date) for r in reservations).items()
    ):
        DayCount.objects.filter(product_id=product_id, date=day).update(booked=F("booked") - count)
    # The wallet part of an order never paid by card goes back to the pockets.
    commune = connection.tenant
    card_parts = _card_parts(order)
    for service_id, share in sorted(_shares(order).items()):
        from_wallet = share - card_parts.get(service_id, 0)
        if from_wallet > 0:
            wallet.refund_to_service_pocket(
                source_key=f"release:{commune.schema_name}:{order.pk}:{service_id}",
                family_id=order.family_id,
                commune=commune,
                service_id=service_id,
                amount_cents=from_wallet,
                description=f"Commande n° {order.pk} non payée par carte : part du "
                "porte-monnaie rendue",
            )
    order.status = OrderStatus.FAILED
    order.save(update_fields=["status"])
