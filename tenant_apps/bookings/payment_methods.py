"""Which payment methods a checkout may use right now, and how an order whose card payment
could not start is taken back into the cart (nothing held, nothing charged, nothing cancelled)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction

from shared_apps.payments.services import card_payments_available
from tenant_apps.bookings.errors import PaymentMethodRefused, PaymentMethodUnavailable
from tenant_apps.bookings.models import (
    CartItem,
    Order,
    PaymentChoice,
    Reservation,
    ReservationStatus,
)
from tenant_apps.catalog.models import Service


def available_payment_methods(family_id: int | None, services: Iterable[Service]) -> list[str]:
    """The methods a family can pay `services` with right now, in PaymentChoice order.

    Inputs: the family (None: not known yet) and the services of what is being paid.
    Output: the methods every service accepts, minus those that cannot work now: the card only
    when the payment provider is configured. Direct debit only where every service accepts it;
    the family's active SEPA mandate will be required here too (the one place that decides).
    Empty when there is nothing to pay.
    """
    services = list(services)
    if not services:
        return []
    accepted = set.intersection(*(set(service.payment_methods) for service in services))
    methods = [value for value in PaymentChoice.values if value in accepted]
    if PaymentChoice.CARD in methods and not card_payments_available():
        methods.remove(PaymentChoice.CARD)
    return methods


def check_payment_method(family_id: int, services: Iterable[Service], payment_method: str) -> None:
    """Refuse, before anything is booked, a method that cannot pay these services now.

    Errors (409, nothing changed, the cart kept): PaymentMethodRefused when a service does not
    accept it; PaymentMethodUnavailable when it cannot work now (card without a configured
    provider). Both list the methods available in `fields["payment_method"]`.
    """
    services = list(services)
    available = available_payment_methods(family_id, services)
    if payment_method in available:
        return
    offered = [PaymentChoice(value).label for value in available]
    fields = {"payment_method": [f"Possible : {', '.join(offered) or 'aucun'}."]}
    refusing = [s.name for s in services if payment_method not in s.payment_methods]
    if refusing:
        raise PaymentMethodRefused(
            f"« {refusing[0]} » n’accepte pas ce moyen de paiement.", fields=fields
        )
    if payment_method == PaymentChoice.CARD:
        raise PaymentMethodUnavailable(
            "Le paiement par carte n’est pas disponible pour le moment : choisissez un autre "
            "moyen de paiement. Votre panier est conservé.",
            fields=fields,
        )
    raise PaymentMethodUnavailable(fields=fields)


def put_order_back_in_cart(order_id: int, *, now: datetime.datetime) -> None:
    """The card payment of a just-placed order could not start (provider down or refusing):
    undo the order as if "Payer" had never been pressed.

    Its days go back in the family's cart at the prices it held, their places are freed, the
    wallet part is given back (once: release_order's ledger key), and its reservations are
    removed, so "Mes réservations" shows no cancelled day that the parent never booked. The
    order itself stays, failed and empty, because the ledger lines name it. Runs in its own
    transaction; does nothing to an order no longer awaiting its card payment.
    """
    from tenant_apps.bookings.card import release_order
    from tenant_apps.bookings.services import CART_LIFETIME, _cart_of

    with transaction.atomic():
        # The cart first, as checkout takes it (cart → day counters → …): no deadlock with a
        # second checkout of the same family.
        family_id = Order.objects.values_list("family_id", flat=True).get(pk=order_id)
        cart = _cart_of(family_id, now=now, lock=True)
        lines = list(
            Reservation.objects.filter(order_id=order_id, status=ReservationStatus.BOOKED).values(
                "child_id", "product_id", "variant_id", "date", "price_cents"
            )
        )
        # release_order takes the locks in the booking paths' order and re-checks the status.
        if not release_order(order_id, now=now):
            return
        Reservation.objects.filter(order_id=order_id).delete()
        CartItem.objects.bulk_create(
            [CartItem(cart=cart, **line) for line in lines], ignore_conflicts=True
        )
        cart.expires_at = now + CART_LIFETIME
        cart.save(update_fields=["expires_at", "updated_at"])
