"""Which payment methods a checkout may use right now: the one place that decides, for the cart
page, the API and checkout itself."""

from __future__ import annotations

from collections.abc import Iterable

from shared_apps.payments.services import card_payments_available
from tenant_apps.billing.errors import NoActiveMandate
from tenant_apps.billing.selectors import has_active_mandate
from tenant_apps.bookings.errors import PaymentMethodRefused, PaymentMethodUnavailable
from tenant_apps.bookings.models import PaymentChoice
from tenant_apps.catalog.models import Service


def available_payment_methods(
    family_id: int | None, services: Iterable[Service], *, with_mandate: bool = True
) -> list[str]:
    """The methods a family can pay `services` with right now, in PaymentChoice order.

    Inputs: the family (None: not known yet) and the services of what is being paid.
    Output: the methods every service accepts, minus those that cannot work now: the card only
    when the payment provider is configured. Direct debit only where every service accepts it
    and the family has an active SEPA mandate with this commune (billing.models: the commune is
    the creditor). Empty when there is nothing to pay. Runs on the commune's schema.
    `with_mandate=False` skips that one query (direct debit then counts as available).
    """
    services = list(services)
    if not services:
        return []
    accepted = set.intersection(*(set(service.payment_methods) for service in services))
    methods = [value for value in PaymentChoice.values if value in accepted]
    if PaymentChoice.CARD in methods and not card_payments_available():
        methods.remove(PaymentChoice.CARD)
    if with_mandate and PaymentChoice.DIRECT_DEBIT in methods and not has_active_mandate(family_id):
        methods.remove(PaymentChoice.DIRECT_DEBIT)
    return methods


CART_KEPT = "Votre panier est conservé."


def check_payment_method(
    family_id: int,
    services: Iterable[Service],
    payment_method: str,
    *,
    then: str = CART_KEPT,
) -> None:
    """Refuse, before anything is booked, a method that cannot pay these services now.

    `then` ends the message of a method that cannot work now: what became of the request (the
    cart kept, by default; "Rien n'a été réservé ni débité." for a booking without the cart).
    Errors (409, nothing changed): PaymentMethodRefused when a service does not
    accept it; PaymentMethodUnavailable when it cannot work now (card without a configured
    provider); NoActiveMandate (409 `no_active_mandate`) for direct debit without an active
    SEPA mandate with this commune. All list the methods available in `fields["payment_method"]`.
    """
    services = list(services)
    if payment_method != PaymentChoice.DIRECT_DEBIT and payment_method in (
        available_payment_methods(family_id, services, with_mandate=False)
    ):
        return  # no mandate to look up for a wallet or card payment
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
            f"moyen de paiement. {then}",
            fields=fields,
        )
    if payment_method == PaymentChoice.DIRECT_DEBIT:
        raise NoActiveMandate(NoActiveMandate.message.replace(CART_KEPT, then), fields=fields)
    raise PaymentMethodUnavailable(
        PaymentMethodUnavailable.message.replace(CART_KEPT, then), fields=fields
    )
