"""Use case "Payer" (guide step 4): book everything in the cart and pay for it — from the
wallet, by direct debit, or by card (the wallet first, the card for the rest).

`place_order` is the one place an order is written, for parents' checkouts and staff bookings
on a family's behalf alike: under the days' locks (`locks.lock_booking_days`: shared per day,
exclusive per family and day) it prices the places (`rules.marginal_prices`), writes the order
and its reservations, counts them against the capacity (`locks.take_places`) and pays.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from shared_apps.common.bulk_insert import insert_with_parent
from shared_apps.common.errors import DomainError
from shared_apps.families.models import Child
from shared_apps.families.selectors import family_id_of
from shared_apps.payments.services import start_checkout_payment
from shared_apps.wallet.services import available_for, pay_from_wallet
from tenant_apps.billing.services.receivables import charge_order
from tenant_apps.bookings import ledger_keys, rules
from tenant_apps.bookings.errors import (
    AlreadyBooked,
    CartEmpty,
    DayClosed,
    DeadlinePassed,
)
from tenant_apps.bookings.inputs import BookingContext
from tenant_apps.bookings.locks import lock_booking_days, take_places
from tenant_apps.bookings.models import (
    LIVE_STATUSES,
    Cart,
    CartItem,
    Order,
    OrderStatus,
    PaymentChoice,
    Reservation,
)
from tenant_apps.bookings.payment_methods import check_payment_method
from tenant_apps.bookings.services.card_orders import put_order_back_in_cart
from tenant_apps.bookings.services.checks import check_payment_choice
from tenant_apps.catalog.models import Closure, Product
from tenant_apps.enrollments.models import FamilyProfile
from tenants.calendar import commune_calendar
from tenants.services import assert_on_schema, lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    reservations: list[Reservation]
    payment: object | None = None  # the card payment to confirm, for payment_method "card"


@dataclass
class OrderLine:
    """A place to book that is not in a cart (the one-step booking, staff booking on a
    family's behalf)."""

    child_id: int
    product_id: int
    date: datetime.date
    price_cents: int = 0  # set by place_order
    variant_id: int | None = None


def checkout(
    *, commune: Commune, user: User, payment_method: str, now: datetime.datetime | None = None
) -> CheckoutResult:
    """Book everything in the cart and pay for it, all or nothing.

    A method the cart's services refuse, or that cannot work now (card without a configured
    provider), is refused before anything is booked (409, cart untouched). If the card payment
    still fails to start once the order is placed, the order is put back in the cart
    (card_orders.put_order_back_in_cart) and PaymentProviderUnavailable (503) is raised.

    By card, the provider is asked for the payment once the order is committed: a card
    checkout must not run inside an outer transaction (its atomic block is then durable, and
    Django refuses the nesting), or a rollback could leave a payment for an order that never
    was. Wallet and direct-debit checkouts call no provider and may be nested.
    """
    assert_on_schema(commune)
    now = now or timezone.now()
    check_payment_choice(payment_method)
    family_id = family_id_of(user)
    if family_id is None:
        raise CartEmpty()
    with transaction.atomic(durable=payment_method == PaymentChoice.CARD):
        lock_active_commune(commune)  # the request's commune may be a stale cached copy
        # Locking the cart serialises two checkouts of it: the second finds it empty.
        cart = Cart.objects.select_for_update().filter(family_id=family_id).first()
        if cart is None or cart.expires_at <= now:
            if cart:
                cart.items.all().delete()
            raise CartEmpty()
        items = list(
            cart.items.select_related("product__service").order_by("product_id", "date", "child_id")
        )
        if not items:
            raise CartEmpty()
        products = {item.product_id: item.product for item in items}
        # Before anything is booked: a method that cannot work now leaves the cart as it was.
        check_payment_method(
            family_id, {p.service_id: p.service for p in products.values()}.values(), payment_method
        )
        by_product: dict[int, list[CartItem]] = defaultdict(list)
        for item in items:
            by_product[item.product_id].append(item)
        # No family (None) matches no profile: one query for every product of the cart.
        profile = FamilyProfile.objects.filter(family_id=family_id).first()
        calendar = commune_calendar(commune)
        pricing = {}
        for product_id, product_items in by_product.items():
            # Closures are checked by place_order, under the days' locks.
            context = BookingContext(
                product=products[product_id],
                calendar=calendar,
                closures={},
                quotient_familial=profile.quotient_familial if profile else None,
            )
            pricing[product_id] = context.prices()
            # Deadlines and capacity are checked again: time has passed since "Ajouter au panier".
            dates = sorted({i.date for i in product_items})
            late = [d for d in dates if now >= context.booking_deadline(d)]
            if late:
                raise DeadlinePassed(
                    f"Délai dépassé depuis l’ajout au panier : {rules.list_days(late)}. Retirez "
                    "ces jours du panier.",
                    fields={"dates": [d.isoformat() for d in late]},
                )
        # Emptied now, in one DELETE (the items are in memory): a refusal below rolls it back.
        CartItem.objects.filter(cart=cart)._raw_delete(CartItem.objects.db)
        result = place_order(
            commune=commune,
            family_id=family_id,
            user=user,
            items=items,
            products=products,
            payment_method=payment_method,
            pricing=pricing,
        )
    if payment_method == PaymentChoice.CARD:
        result = start_card_payment(commune, result, user)
    return result


def start_card_payment(commune: Commune, result: CheckoutResult, user: User) -> CheckoutResult:
    """After the order holds its places (committed), ask the provider for a card payment. If
    it cannot start, the order goes back in the cart: nothing held, charged or cancelled."""
    order = result.order
    if not order.card_cents:
        return result  # the wallet paid everything
    try:
        payment = start_checkout_payment(
            user=user,
            family_id=order.family_id,
            amount_cents=order.card_cents,
            commune=commune,
            metadata={"schema": commune.schema_name, "order_id": order.pk},
        )
    except DomainError:
        put_order_back_in_cart(commune=commune, order_id=order.pk, now=timezone.now())
        raise
    Order.objects.filter(pk=order.pk).update(payment_id=payment.pk)
    order.payment_id = payment.pk
    return CheckoutResult(order, result.reservations, payment)


def place_order(
    *,
    commune: Commune,
    family_id: int,
    user: User,
    items: Sequence[CartItem | OrderLine],
    products: dict[int, Product],
    payment_method: str,
    pricing: dict[int, tuple[int, int]],
    on_behalf: bool = False,
    consent_note: str = "",
) -> CheckoutResult:
    """Take the places, price them, write the order and its reservations, pay: inside the
    caller's transaction, so any refusal undoes everything.

    `items` are cart items or OrderLines; `pricing` gives each product's (full, sibling) price
    for this family in cents (quotient familial applied). Prices are decided here, under the
    family's days' locks, from the family's children already holding each day
    (rules.marginal_prices: the first pays the full price, the others the sibling price), so
    what the cart showed earlier cannot undercut the rule.
    """
    assert transaction.get_connection().in_atomic_block, (
        "place_order needs the caller's transaction"
    )
    places = [(item.product_id, item.date) for item in items]
    # Step 1 of locks.py: the days shared (other families' checkouts go on), this family's days
    # exclusive (its days are priced as a whole), closures excluded until the COMMIT.
    lock_booking_days(places, {(family_id, p, d) for p, d in places})
    # A closure decided since the days were chosen wins: it holds the day's lock exclusively,
    # so it is committed and seen here, or waits for this checkout to end (and then cancels it).
    closures, live = _days_as_they_are(items, products, family_id)
    _refuse_closed_days(items, products, closures)
    _price_items(items, pricing, live)
    # The choices are str: payment_method is one of their values (checked by the callers).
    status = {
        PaymentChoice.WALLET: OrderStatus.PAID,
        PaymentChoice.DIRECT_DEBIT: OrderStatus.TO_INVOICE,
        PaymentChoice.CARD: OrderStatus.AWAITING_PAYMENT,
    }[payment_method]  # type: ignore[index]
    amount = sum(item.price_cents for item in items)
    try:
        # The order and its places in one statement of arrays (shared_apps.common.bulk_insert):
        # bulk_create would spend more time preparing the 32 rows of a month for two children
        # than PostgreSQL writing them. No savepoint of its own: a refusal rolls the caller's
        # whole transaction back.
        order, reservations = insert_with_parent(
            Order,
            {
                "family_id": family_id,
                "placed_by_id": user.pk,
                "status": status,
                "payment_method": payment_method,
                "amount_cents": amount,
                # All from the wallet, or nothing is booked (InsufficientBalance rolls it back).
                "wallet_cents": amount if payment_method == PaymentChoice.WALLET else 0,
                "on_behalf": on_behalf,
                "consent_note": consent_note,
            },
            Reservation,
            "order_id",
            [
                {
                    "child_id": item.child_id,
                    "product_id": item.product_id,
                    "variant_id": item.variant_id,
                    "date": item.date,
                    "price_cents": item.price_cents,
                    "full_price_cents": pricing[item.product_id][0],
                    "sibling_price_cents": pricing[item.product_id][1],
                }
                for item in items
            ],
            family_id=family_id,
            paid_by=payment_method,
        )
        for reservation in reservations:
            reservation.order = order
    except IntegrityError as exc:  # booked meanwhile (another checkout, or staff)
        raise AlreadyBooked(
            "Un de ces jours a été réservé entre-temps. Rien n’a été débité."
        ) from exc
    # Step 2, as late as possible: the counters (capacity) are row-locked until the COMMIT.
    take_places(places, products)
    if payment_method == PaymentChoice.WALLET:
        _pay_order_from_wallet(commune, order, items, products, user)
    elif payment_method == PaymentChoice.CARD:
        _pay_order_from_wallet(commune, order, items, products, user, rest_by_card=True)
    elif payment_method == PaymentChoice.DIRECT_DEBIT:
        # Owed now, invoiced with the month (billing.services.receivables).
        charge_order(commune=commune, order=order, items=items, products=products, user=user)
    return CheckoutResult(order, reservations)


def _days_as_they_are(
    items: Sequence[CartItem | OrderLine], products: dict[int, Product], family_id: int
) -> tuple[dict[tuple[int, datetime.date], str], list[tuple[int, int, datetime.date, str]]]:
    """Under the days' locks, in one round trip: the closures of the items' services and days
    ({(service id, day): reason}) and the family's live places on those products and days
    ([(child id, product id, day, order status)]). Written out, both reads in one UNION ALL:
    every checkout runs it."""
    services = sorted({product.service_id for product in products.values()})
    days = sorted({item.date for item in items})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT NULL::bigint, service_id, date, reason FROM {Closure._meta.db_table} "
            "WHERE service_id = ANY(%s::bigint[]) AND date = ANY(%s::date[]) "
            "UNION ALL "
            f"SELECT r.child_id, r.product_id, r.date, o.status "
            f"FROM {Reservation._meta.db_table} r JOIN {Order._meta.db_table} o "
            "ON o.id = r.order_id WHERE r.family_id = %s AND r.product_id = ANY(%s::bigint[]) "
            "AND r.date = ANY(%s::date[]) AND r.status = ANY(%s::text[])",
            [
                services,
                days,
                family_id,
                sorted({item.product_id for item in items}),
                days,
                list(LIVE_STATUSES),
            ],
        )
        rows = cursor.fetchall()
    closures = {(service, day): reason for child, service, day, reason in rows if child is None}
    live = [row for row in rows if row[0] is not None]
    return closures, live


def _refuse_closed_days(
    items: Sequence[CartItem | OrderLine],
    products: dict[int, Product],
    reasons: dict[tuple[int, datetime.date], str],
) -> None:
    """Refuse (DayClosed) the items on a day their service has closed (`reasons`: the
    closures, by service and day), saying why as the calendar says it (rules.availability)."""
    services_of = {product_id: product.service_id for product_id, product in products.items()}
    closed: dict[str, set[datetime.date]] = defaultdict(set)
    for item in items:
        reason = reasons.get((services_of[item.product_id], item.date))
        if reason is not None:
            reason = reason.strip().rstrip(".")
            why = (
                f"fermeture du service : {reason}"
                if reason
                else "fermeture exceptionnelle du service"
            )
            closed[why].add(item.date)
    if closed:
        raise DayClosed(
            "Jour fermé — "
            + " ; ".join(f"{why} : {rules.list_days(sorted(days))}" for why, days in closed.items())
            + ".",
            fields={"dates": sorted({d.isoformat() for days in closed.values() for d in days})},
        )


def _price_items(
    items: Sequence[CartItem | OrderLine],
    pricing: dict[int, tuple[int, int]],
    live: list[tuple[int, int, datetime.date, str]],
) -> None:
    """Set each item's price_cents by rules.marginal_prices, from the family's live places on
    the items' days (`live`: child id, product id, day, order status), and refuse
    (AlreadyBooked, naming the children and days) an item whose child already holds that
    product and day (one query for the names). The caller holds the family's days' locks
    (locks.py, step 1), so nothing of the family's changes meanwhile.

    A place whose card payment is still pending does not count as a sibling yet: if that order
    is released, the new place must not be left at the reduced price; if the card money
    arrives, the day is settled then and the overpaid part comes back (card_orders.fulfil_checkout).
    It is booked all the same: the same child cannot hold the day twice.
    """
    holding: Counter = Counter()
    taken = set()
    for child_id, product_id, day, order_status in live:
        taken.add((child_id, product_id, day))
        if order_status != OrderStatus.AWAITING_PAYMENT:
            holding[(product_id, day)] += 1
    twice = sorted(
        {(i.date, i.child_id) for i in items if (i.child_id, i.product_id, i.date) in taken}
    )
    if twice:
        names = dict(
            Child.objects.filter(pk__in={c for _, c in twice}).values_list("pk", "first_name")
        )
        raise AlreadyBooked(
            "Déjà réservé : "
            + "; ".join(f"{names.get(c, '')} le {rules.day_label(d)}" for d, c in twice)
            + ". Rien n’a été débité.",
            fields={"dates": sorted({d.isoformat() for d, _ in twice})},
        )
    prices = rules.marginal_prices(
        [(item.product_id, item.date, item.child_id) for item in items],
        holding=holding,
        prices=pricing,
    )
    for item, price in zip(items, prices, strict=True):
        item.price_cents = price


def _pay_order_from_wallet(
    commune: Commune,
    order: Order,
    items: Sequence[CartItem | OrderLine],
    products: dict[int, Product],
    user: User,
    *,
    rest_by_card: bool = False,
) -> None:
    """Pay each service's share from the wallet (its pocket, then "tous services"). With
    `rest_by_card`, what the wallet cannot pay is left for the card (order.card_by_service);
    otherwise a shortfall refuses the whole order."""
    per_service: Counter = Counter()
    for item in items:
        per_service[products[item.product_id].service_id] += item.price_cents
    wallet_total, card_by_service = 0, {}
    for service_id, amount in sorted(per_service.items()):
        if not amount:
            continue
        from_wallet = amount
        if rest_by_card:
            from_wallet = min(amount, available_for(order.family_id, commune, service_id))
            if amount - from_wallet:
                card_by_service[str(service_id)] = amount - from_wallet
        if not from_wallet:
            continue
        service = next(p.service for p in products.values() if p.service_id == service_id)
        pay_from_wallet(
            source_key=ledger_keys.order_payment(commune, order.pk, service_id),
            family_id=order.family_id,
            commune=commune,
            service_id=service_id,
            amount_cents=from_wallet,
            description=f"Réservations {service.name} (commande n° {order.pk})",
            created_by=user,
            low_balance_threshold_cents=service.low_balance_threshold_cents,
        )
        wallet_total += from_wallet
    if not rest_by_card:
        assert order.wallet_cents == wallet_total, "place_order wrote the wallet's share"
        return
    order.wallet_cents = wallet_total
    order.card_cents = sum(card_by_service.values())
    order.card_by_service = card_by_service
    if rest_by_card and not order.card_cents:
        order.status = OrderStatus.PAID  # the wallet covered it all: no card needed
    order.save(update_fields=["wallet_cents", "card_cents", "card_by_service", "status"])
