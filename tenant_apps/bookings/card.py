"""Orders paid by card: the payment is started after the order holds its places, and the order
is fulfilled only when the provider's webhook confirms (never from the browser)."""

from __future__ import annotations

import datetime
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.wallet import services as wallet
from shared_apps.wallet.models import TransactionKind
from tenant_apps.bookings.models import DayCount, Order, OrderStatus, Reservation, ReservationStatus


def _per_service(order: Order, *, booked: bool) -> Counter:
    """Amounts per service of the order's reservations still booked (or of the others)."""
    amounts: Counter = Counter()
    reservations = order.reservations.all()
    reservations = (
        reservations.filter(status=ReservationStatus.BOOKED)
        if booked
        else reservations.exclude(status=ReservationStatus.BOOKED)
    )
    for service_id, price in reservations.values_list("product__service_id", "price_cents"):
        amounts[service_id] += price
    return amounts


def _credit_pockets(payment, commune, amounts: Counter, why: str):
    last = None
    for service_id, amount in sorted(amounts.items()):
        if amount:
            last, _ = wallet.credit_top_up(
                source_key=f"cardpay-credit:{payment.pk}:{service_id}",
                family_id=payment.family_id,
                amount_cents=amount,
                commune=commune,
                service_id=service_id,
                description=why,
            )
    return last


def fulfil_checkout(payment):
    """Called by the payments app, inside its transaction, when a checkout payment succeeded.

    The card money becomes the services' revenue and the order is paid. If the order was
    released meanwhile (paid too late), the money is not lost: it goes to the family's pocket
    for those services.
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
        if order.status != OrderStatus.AWAITING_PAYMENT:
            # Released (paid too late): every day was cancelled, the money goes to the pockets.
            return _credit_pockets(
                payment,
                commune,
                _per_service(order, booked=False),
                "Paiement par carte arrivé après l’expiration de la commande : crédité",
            )
        clearing = wallet.card_clearing_account()
        last = None
        for service_id, amount in sorted(_per_service(order, booked=True).items()):
            last, _ = wallet.post_transaction(
                source_key=f"cardpay:{payment.pk}:{service_id}",
                kind=TransactionKind.SPEND,
                lines=[(clearing, -amount), (wallet.revenue_account(commune, service_id), amount)],
                description=f"Réservations payées par carte (commande n° {order.pk})",
                commune=commune,
                service_id=service_id,
            )
        # Days cancelled while the payment was pending were not refunded: their share goes to
        # the pocket now that it is paid.
        last = (
            _credit_pockets(
                payment,
                commune,
                _per_service(order, booked=False),
                "Jours annulés avant la confirmation du paiement par carte : crédités",
            )
            or last
        )
        order.status = OrderStatus.PAID
        order.card_cents = payment.amount_cents
        order.save(update_fields=["status", "card_cents"])
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
    order.status = OrderStatus.FAILED
    order.save(update_fields=["status"])
