"""Use case "Réserver et payer" in one step, for the mobile app: the chosen days of a product
for some of the family's children, booked and paid at once, without going through the cart.

The same rules as "Ajouter au panier" then "Payer" (guide step 4), checked once: the children
and the days here, before anything is locked; the service's closures, what the family already
holds, the prices (sibling rank, quotient familial), the capacity and the payment under the
days' locks, in `checkout.place_order` — the one place an order is written. The web pages keep
the cart, where a parent gathers days of several services before paying.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from tenant_apps.bookings.inputs import BookingContext
from tenant_apps.bookings.models import Cart, CartItem, PaymentChoice
from tenant_apps.bookings.parsing import parse_child_ids, parse_dates
from tenant_apps.bookings.payment_methods import check_payment_method
from tenant_apps.bookings.services.checkout import (
    CheckoutResult,
    OrderLine,
    place_order,
    start_card_payment,
)
from tenant_apps.bookings.services.checks import (
    active_product,
    booker_of,
    check_open_and_on_time,
    check_payment_choice,
    chosen_variant,
)
from tenants.calendar import commune_calendar
from tenants.services import assert_on_schema, lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune


def book_and_pay(
    *,
    commune: Commune,
    user: User,
    product_id: int | str,
    child_ids: Sequence[int | str],
    dates: Sequence[datetime.date | str],
    payment_method: str,
    variant_id: int | str | None = None,
    now: datetime.datetime | None = None,
) -> CheckoutResult:
    """Book `dates` (ISO strings or dates, Europe/Paris days) of `product_id` for every child
    of `child_ids` and pay: from the wallet (status "paid"), by direct debit ("to_invoice",
    with the month's invoice) or by card (the wallet first, "awaiting_payment" for the rest,
    the payment to confirm in the result). All or nothing; the same days of these children are
    taken out of the family's cart, where they would now be booked twice (when they were there
    as the request began: a day added to the cart while it is being booked stays there, and
    that cart's checkout then says it is already booked).

    Errors, nothing booked nor paid: InvalidBooking (400) for bad input or a child that is not
    the family's; ProductNotFound (404); NotEnrolled, DayClosed (saying why), DeadlinePassed,
    AlreadyBooked, DayFull (409); the payment method's refusals (payment_methods:
    PaymentMethodRefused, PaymentMethodUnavailable, NoActiveMandate, 409); InsufficientBalance
    (409) when the wallet cannot pay it all; CommuneSuspended (403). By card, as checkout: if
    the provider cannot start the payment, the order is put in the cart and
    PaymentProviderUnavailable (503) is raised — a card booking must not run inside an outer
    transaction.

    Queries, whatever the number of children and days: the product, the family's children
    with their enrolment, its quotient familial and whether its cart holds these days; then in
    one transaction the commune row, the cart's items (only when it holds some of these days),
    the days' locks, the closures with the family's places, the order with its reservations,
    the day counters (with a capacity), the wallet (two).
    """
    assert_on_schema(commune)
    now = now or timezone.now()
    check_payment_choice(payment_method)
    product = active_product(product_id)
    ids = parse_child_ids(child_ids)
    days = parse_dates(dates)
    variant = chosen_variant(product, variant_id)
    booker = booker_of(user, product, ids, days)
    family_id = booker.family_id
    check_payment_method(
        family_id, [product.service], payment_method, then="Rien n’a été réservé ni débité."
    )
    # The service's closures are read under the days' locks (place_order): not here.
    context = BookingContext(
        product=product,
        calendar=commune_calendar(commune),
        closures={},
        quotient_familial=booker.quotient_familial,
    )
    check_open_and_on_time(context, days, now=now)
    lines = [
        OrderLine(child_id, product.pk, day, variant_id=variant.pk if variant else None)
        for day in days
        for child_id in ids
    ]
    with transaction.atomic(durable=payment_method == PaymentChoice.CARD):
        lock_active_commune(commune)  # the request's commune may be a stale cached copy
        if booker.in_cart:
            # The cart first, as checkout takes it (locks.py): its row locked, then these days'
            # items deleted, before any day's lock — a checkout of the same cart waits here.
            _take_out_of_cart(family_id, product.pk, ids, days)
        result = place_order(
            commune=commune,
            family_id=family_id,
            user=user,
            items=lines,
            products={product.pk: product},
            payment_method=payment_method,
            pricing={product.pk: context.prices()},
        )
    if payment_method == PaymentChoice.CARD:
        result = start_card_payment(commune, result, user)
    return result


def _take_out_of_cart(
    family_id: int, product_id: int, child_ids: list[int], days: list[datetime.date]
) -> None:
    """Delete these children's `days` of the product from the family's cart, its row locked
    first (FOR UPDATE), in one statement. Inside the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {CartItem._meta.db_table} WHERE cart_id = (SELECT id FROM "
            f"{Cart._meta.db_table} WHERE family_id = %s FOR UPDATE) AND product_id = %s "
            "AND child_id = ANY(%s::bigint[]) AND date = ANY(%s::date[])",
            [family_id, product_id, child_ids, days],
        )
