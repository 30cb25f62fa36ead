"""Booking use cases (guide steps 4–5): cart, checkout, cancellation. One rule set for pages,
API and staff; runs inside the commune's schema.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from shared_apps.common.validation import MAX_DATABASE_ID
from shared_apps.families.models import Child
from shared_apps.families.selectors import family_id_of
from shared_apps.wallet.services import lock_refund_accounts, pay_from_wallet
from tenant_apps.bookings import rules, settlement
from tenant_apps.bookings.cancellation import why_not_cancellable
from tenant_apps.bookings.context import BookingContext, cancellation_refund_percent
from tenant_apps.bookings.errors import (
    AlreadyBooked,
    CartEmpty,
    ChildNotFound,
    DayClosed,
    DayFull,
    DeadlinePassed,
    InvalidBooking,
    NotCancellable,
    NotEnrolled,
    ProductNotFound,
    ReservationNotFound,
)
from tenant_apps.bookings.models import (
    LIVE_STATUSES,
    Cart,
    CartItem,
    DayCount,
    Order,
    OrderStatus,
    PaymentChoice,
    Reservation,
    ReservationStatus,
)
from tenant_apps.catalog.models import Closure, MealVariant, Product
from tenant_apps.catalog.services import MAX_DAILY_CAPACITY
from tenant_apps.enrollments.models import Enrollment
from tenants.calendar import commune_calendar
from tenants.services import lock_active_commune

CART_LIFETIME = datetime.timedelta(minutes=30)
MAX_DAYS_PER_REQUEST = 200
MAX_CHILDREN_PER_REQUEST = 20  # a family's children, with room to spare
MAX_RHYTHM_DAYS = 190  # "Six mois au plus à la fois"
MAX_DAYS_ON_BEHALF = 60  # staff book a few days for a family that forgot, not a year
MAX_ATTENDANCE_CHILDREN = MAX_DAILY_CAPACITY  # children booked on one product and day, at most
BOOKING_HORIZON_DAYS = 400


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    reservations: list[Reservation]
    payment: object | None = None  # the card payment to confirm, for payment_method "card"


@dataclass(frozen=True)
class CancelResult:
    reservation: Reservation
    refund_cents: int
    # "service" (the service's wallet pocket, now), "pending_card" (the pocket, once the pending
    # card payment arrives), "invoice" (not invoiced) or None (nothing given back)
    pocket: str | None
    # refund_cents per pocket (settlement.pocket_of): the day's refund may also come from an
    # earlier cancellation of a sibling paid otherwise
    split: dict[str, int] | None = None


def _now() -> datetime.datetime:
    return timezone.now()


def _commune():
    return connection.tenant


def _parse_dates(raw_dates) -> list[datetime.date]:
    if not isinstance(raw_dates, list | tuple) or not raw_dates:
        raise InvalidBooking(
            "Choisissez au moins un jour.", fields={"dates": ["Au moins un jour."]}
        )
    if len(raw_dates) > MAX_DAYS_PER_REQUEST:
        raise InvalidBooking(
            f"{MAX_DAYS_PER_REQUEST} jours au plus par demande.",
            fields={"dates": ["Trop de jours."]},
        )
    dates = []
    this_year = timezone.localdate().year
    for raw in raw_dates:
        try:
            dates.append(
                raw if isinstance(raw, datetime.date) else datetime.date.fromisoformat(str(raw))
            )
        except ValueError as exc:
            raise InvalidBooking(
                f"Date invalide : {raw!s:.20}. Format attendu : AAAA-MM-JJ.",
                fields={"dates": [f"Date invalide : {raw!s:.20}"]},
            ) from exc
        if abs(dates[-1].year - this_year) > 5:
            raise InvalidBooking(
                f"Date hors calendrier : {raw!s:.20}.", fields={"dates": ["Date hors calendrier."]}
            )
    return sorted(set(dates))


def _child_ids(raw) -> list[int]:
    """Distinct child ids from a client's list, refused (InvalidBooking, 400) when it is not a
    list, is empty, longer than MAX_CHILDREN_PER_REQUEST or holds anything but database ids.
    Checked before any query: the cost of a refusal does not grow with the list."""
    if not isinstance(raw, list | tuple):
        raise InvalidBooking(fields={"child_ids": ["Identifiants d’enfants invalides."]})
    if len(raw) > MAX_CHILDREN_PER_REQUEST:
        raise InvalidBooking(
            f"{MAX_CHILDREN_PER_REQUEST} enfants au plus par demande.",
            fields={"child_ids": ["Trop d’enfants."]},
        )
    try:
        ids = sorted({int(c) for c in raw})
    except (TypeError, ValueError) as exc:
        raise InvalidBooking(fields={"child_ids": ["Identifiants d’enfants invalides."]}) from exc
    if not ids:
        raise InvalidBooking(
            "Choisissez au moins un enfant.", fields={"child_ids": ["Au moins un enfant."]}
        )
    if not all(0 < i <= MAX_DATABASE_ID for i in ids):
        raise InvalidBooking(fields={"child_ids": ["Identifiants d’enfants invalides."]})
    return ids


def _family_id(user) -> int:
    family_id = family_id_of(user)
    if family_id is None:
        raise InvalidBooking("Ajoutez d’abord vos enfants dans « Mes filiations ».")
    return family_id


def _check_children_enrolled(family_id: int, product: Product, child_ids: list[int]) -> None:
    """Refuse the request unless every child is this family's (not removed) and enrolled in
    the product's service. One query, before any calendar or booking is read, and one answer
    (ChildNotFound, 404) whichever id is wrong — another family's, unknown, removed or not
    enrolled — so the refusal tells nothing about other families' children."""
    found = Enrollment.objects.filter(
        service_id=product.service_id,
        child_id__in=child_ids,
        child__family_id=family_id,
        child__removed_at__isnull=True,
    ).count()
    if found != len(child_ids):
        raise ChildNotFound(fields={"child_ids": [ChildNotFound.message]})


def _weekdays(raw) -> list[int]:
    """Distinct weekdays (0 = Monday … 6 = Sunday); InvalidBooking beyond seven or unknown."""
    if not isinstance(raw, list | tuple) or not raw or len(raw) > 7:
        raise InvalidBooking(fields={"weekdays": ["Choisissez de un à sept jours de la semaine."]})
    try:
        days = {int(day) for day in raw}
    except (TypeError, ValueError) as exc:
        raise InvalidBooking(fields={"weekdays": ["Jour de la semaine inconnu."]}) from exc
    if not days <= set(range(7)):
        raise InvalidBooking(fields={"weekdays": ["Jour de la semaine inconnu."]})
    return sorted(days)


def _rhythm_period(start, end) -> tuple[datetime.date, datetime.date]:
    """A weekly rhythm's period: two dates, the end not before the start, MAX_RHYTHM_DAYS at
    most (the calendar of each child is computed over it)."""
    if not isinstance(start, datetime.date) or not isinstance(end, datetime.date):
        raise InvalidBooking(fields={"start": ["Indiquez le début et la fin (AAAA-MM-JJ)."]})
    if end < start:
        raise InvalidBooking(
            "La fin doit être après le début.", fields={"end": ["La fin doit être après le début."]}
        )
    if (end - start).days > MAX_RHYTHM_DAYS:
        raise InvalidBooking("Six mois au plus à la fois.", fields={"end": ["Six mois au plus."]})
    return start, end


def _product(product_id) -> Product:
    try:
        product = Product.objects.select_related("service").get(
            pk=int(product_id), is_active=True, service__is_active=True
        )
    except (Product.DoesNotExist, TypeError, ValueError) as exc:
        raise ProductNotFound() from exc
    return product


def _check_days(
    context: BookingContext,
    child_ids: list[int],
    dates: list[datetime.date],
    family_id: int,
    *,
    now: datetime.datetime,
    exclude_cart: Cart | None = None,
) -> None:
    """Refuse the whole request if any (child, day) breaks a rule. Constant queries."""
    product = context.product
    names = dict(
        Child.objects.filter(
            pk__in=child_ids, family_id=family_id, removed_at__isnull=True
        ).values_list("pk", "first_name")
    )
    if len(names) != len(child_ids):
        raise InvalidBooking(fields={"child_ids": ["Enfant inconnu dans votre famille."]})
    enrolled = set(
        Enrollment.objects.filter(
            service_id=product.service_id, child_id__in=child_ids
        ).values_list("child_id", flat=True)
    )
    not_enrolled = [names[c] for c in child_ids if c not in enrolled]
    if not_enrolled:
        raise NotEnrolled(
            f"{', '.join(not_enrolled)} n’est pas inscrit·e à ce service : faites d’abord une "
            "demande d’accès.",
            fields={"child_ids": [NotEnrolled.message]},
        )
    today = timezone.localdate(now)
    horizon = today + datetime.timedelta(days=BOOKING_HORIZON_DAYS)
    closed = [d for d in dates if d > horizon or not context.is_open(d)]
    if closed:
        raise _day_closed(context, closed, horizon)
    late = [d for d in dates if now >= context.booking_deadline(d)]
    if late:
        raise DeadlinePassed(
            f"Délai de réservation dépassé "
            f"({rules.DeadlineRule.for_booking(product).describe()}) : {_list_days(late)}.",
            fields={"dates": [d.isoformat() for d in late]},
        )
    booked = list(
        Reservation.objects.filter(
            product=product, child_id__in=child_ids, date__in=dates, status__in=LIVE_STATUSES
        ).values_list("child_id", "date")
    )
    if booked:
        raise AlreadyBooked(
            "Déjà réservé : "
            + "; ".join(f"{names[c]} le {_day(d)}" for c, d in sorted(booked, key=lambda x: x[1]))
            + ".",
            fields={"dates": sorted({d.isoformat() for _, d in booked})},
        )
    if product.daily_capacity is not None:
        counts = dict(
            DayCount.objects.filter(product=product, date__in=dates).values_list("date", "booked")
        )
        full = [d for d in dates if counts.get(d, 0) + len(child_ids) > product.daily_capacity]
        if full:
            raise DayFull(
                f"Plus assez de places : {_list_days(full)}.",
                fields={"dates": [d.isoformat() for d in full]},
            )


def _day_closed(
    context: BookingContext, closed: list[datetime.date], horizon: datetime.date | None = None
) -> DayClosed:
    """The refusal of closed days, saying why each is closed ("Jour fermé — Vacances de Noël :
    lundi 21/12 ; pas d’accueil le mercredi : mercredi 09/12."), for parents and agents alike."""
    reasons: dict[str, list[datetime.date]] = {}
    if horizon is not None:
        far = [d for d in closed if d > horizon]
        if far:
            reasons["hors du calendrier de réservation"] = far
        closed = [d for d in closed if d <= horizon]
    reasons.update(context.closed_by_reason(closed))
    return DayClosed(
        "Jour fermé — "
        + " ; ".join(f"{reason} : {_list_days(days)}" for reason, days in reasons.items())
        + ".",
        fields={"dates": sorted(d.isoformat() for days in reasons.values() for d in days)},
    )


def _day(day: datetime.date) -> str:
    return f"{rules.WEEKDAY_NAMES[day.weekday()]} {day.day:02d}/{day.month:02d}"


def _list_days(days: list[datetime.date]) -> str:
    shown = ", ".join(_day(d) for d in days[:6])
    return shown + (f" et {len(days) - 6} autre(s)" if len(days) > 6 else "")


def _sibling_ranks(
    product: Product,
    family_id: int,
    child_ids: list[int],
    dates: list[datetime.date],
    cart: Cart | None,
) -> dict[tuple[int, datetime.date], int]:
    """Rank of each new (child, day) among the family's children holding that day (1 = first)."""
    holding: Counter = Counter()
    for day in Reservation.objects.filter(
        product=product, family_id=family_id, date__in=dates, status__in=LIVE_STATUSES
    ).values_list("date", flat=True):
        holding[day] += 1
    in_cart = (
        cart.items.filter(product=product, date__in=dates) if cart else CartItem.objects.none()
    )
    for day in in_cart.values_list("date", flat=True):
        holding[day] += 1
    ranks = {}
    for day in dates:
        for child_id in child_ids:
            holding[day] += 1
            ranks[(child_id, day)] = holding[day]
    return ranks


def _cart_of(family_id: int, *, now: datetime.datetime, lock: bool = False) -> Cart:
    queryset = Cart.objects.select_for_update() if lock else Cart.objects
    cart = queryset.filter(family_id=family_id).first()
    if cart is None:
        try:
            with transaction.atomic():
                cart = Cart.objects.create(family_id=family_id, expires_at=now + CART_LIFETIME)
        except IntegrityError:
            cart = queryset.get(family_id=family_id)
    elif cart.expires_at <= now:
        cart.items.all().delete()  # an expired cart holds nothing
    return cart


def add_to_cart(
    *, user, product_id, child_ids, dates, variant_id=None, now: datetime.datetime | None = None
) -> list[CartItem]:
    """Put days in the family's cart for some children: all of them or none."""
    now = now or _now()
    family_id = family_id_of(user)
    if family_id is None:
        raise InvalidBooking("Ajoutez d’abord vos enfants dans « Mes filiations ».")
    product = _product(product_id)
    child_ids = _child_ids(child_ids)
    dates = _parse_dates(dates)
    variant = None
    if variant_id not in (None, ""):
        variant = MealVariant.objects.filter(pk=_as_int(variant_id), product=product).first()
        if variant is None:
            raise InvalidBooking(fields={"variant_id": ["Choix de repas inconnu."]})
    context = BookingContext.load(product, family_id, dates)
    _check_days(context, child_ids, dates, family_id, now=now)
    with transaction.atomic():
        cart = _cart_of(family_id, now=now, lock=True)
        already = set(
            cart.items.filter(product=product, child_id__in=child_ids, date__in=dates).values_list(
                "child_id", "date"
            )
        )
        ranks = _sibling_ranks(product, family_id, child_ids, dates, cart)
        items = CartItem.objects.bulk_create(
            CartItem(
                cart=cart,
                child_id=child_id,
                product=product,
                variant=variant,
                date=day,
                price_cents=context.price(ranks[(child_id, day)]),
            )
            for day in dates
            for child_id in child_ids
            if (child_id, day) not in already
        )
        cart.expires_at = now + CART_LIFETIME
        cart.save(update_fields=["expires_at", "updated_at"])
    return items


def add_days_to_cart(
    *, user, product_id, child_ids, dates, variant_id=None
) -> tuple[list[CartItem], int]:
    """The calendar's "Ajouter au panier": a day already booked for one of the chosen children
    ("Réservé : Léa — cocher pour Hugo") is added for the others only; anything else wrong is
    refused as by add_to_cart. All or nothing. Returns (items, (child, day) pairs skipped).

    The lists are bounded and the children checked (this family's, enrolled) before anything
    is read about their days: ChildNotFound for any other child, InvalidBooking for bad input.
    """
    family_id = _family_id(user)
    product = _product(product_id)
    ids = _child_ids(child_ids)
    days = _parse_dates(dates)
    _check_children_enrolled(family_id, product, ids)
    booked = set(
        Reservation.objects.filter(
            family_id=family_id,
            product=product,
            child_id__in=ids,
            date__in=days,
            status__in=LIVE_STATUSES,
        ).values_list("child_id", "date")
    )
    groups: dict[tuple[int, ...], list[datetime.date]] = {}
    skipped = 0
    for day in days:
        free = tuple(c for c in ids if (c, day) not in booked)
        skipped += len(ids) - len(free)
        if free:
            groups.setdefault(free, []).append(day)
    if not groups:
        raise AlreadyBooked("Ces jours sont déjà réservés pour les enfants choisis.")
    return _add_groups(user, product_id, groups, variant_id), skipped


def add_weekly_rhythm_to_cart(
    *, user, product_id, child_ids, weekdays, start, end, variant_id=None, now=None
) -> tuple[list[CartItem], int]:
    """ "Réservez par semaine, par mois…": the rhythm's days that can be booked for every chosen
    child are added; closed, late or booked ones are skipped and counted.

    Inputs: at most MAX_CHILDREN_PER_REQUEST child ids, one to seven weekdays, a period of
    MAX_RHYTHM_DAYS at most. Returns (items added, days skipped). Errors: InvalidBooking (400)
    for bad input or nothing bookable; ChildNotFound (404), the same for any child that is not
    this family's enrolled child, raised before any calendar is computed.
    """
    from tenant_apps.bookings.selectors import calendar

    family_id = _family_id(user)
    product = _product(product_id)
    ids = _child_ids(child_ids)
    weekdays = _weekdays(weekdays)
    start, end = _rhythm_period(start, end)
    _check_children_enrolled(family_id, product, ids)
    statuses: dict[datetime.date, set[str]] = {}
    for child_id in ids:
        for day in calendar(
            user=user, product=product, child_id=child_id, start=start, end=end, now=now
        ):
            statuses.setdefault(day.date, set()).add(day.status)
    wanted = [
        (day, states == {"bookable"})
        for day, states in sorted(statuses.items())
        if day.weekday() in weekdays and day.weekday() in product.weekdays
    ]
    days = [day for day, ok in wanted if ok]
    if not days:
        raise InvalidBooking("Aucun jour réservable dans cette période pour ces enfants.")
    return _add_groups(user, product.pk, {tuple(ids): days}, variant_id), len(wanted) - len(days)


def _add_groups(user, product_id, groups: dict, variant_id) -> list[CartItem]:
    with transaction.atomic():  # every group, or none
        return [
            item
            for ids, days in groups.items()
            for item in add_to_cart(
                user=user,
                product_id=product_id,
                child_ids=list(ids),
                dates=days,
                variant_id=variant_id,
            )
        ]


def remove_cart_item(*, user, item_id) -> None:
    deleted, _ = CartItem.objects.filter(
        pk=_as_int(item_id), cart__family_id=family_id_of(user)
    ).delete()
    if not deleted:
        from shared_apps.common.errors import NotFound

        raise NotFound("Élément du panier introuvable.")


def _take_places(items: list[CartItem], products: dict[int, Product]) -> None:
    """Count the places taken, refusing any day that would go over its capacity.

    Three queries whatever the number of days: create the missing counters, lock them all in
    (product, day) order — so concurrent checkouts queue instead of deadlocking — then add.
    """
    wanted = Counter((item.product_id, item.date) for item in items)
    keys = sorted(wanted)
    locked = _lock_counters(keys)
    full = [
        (p, d)
        for p, d in keys
        if products[p].daily_capacity is not None
        and locked[(p, d)].booked + wanted[(p, d)] > products[p].daily_capacity
    ]
    if full:
        product_id, day = full[0]
        raise DayFull(
            f"Plus de place le {_day(day)} pour « {products[product_id].name} ».",
            fields={"dates": sorted({d.isoformat() for _, d in full})},
        )
    _add_to_counts([(p, d, wanted[(p, d)]) for p, d in keys])


def _lock_counters(keys: list[tuple[int, datetime.date]]) -> dict:
    """Lock the (product, day) counters, creating missing ones, always in (product, day) order:
    every path that books, cancels or closes takes these first, so none can deadlock another."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    DayCount.objects.bulk_create(
        [DayCount(product_id=p, date=d) for p, d in keys], ignore_conflicts=True
    )
    return {
        (c.product_id, c.date): c
        for c in DayCount.objects.select_for_update()
        .filter(product_id__in=sorted({p for p, _ in keys}), date__in=sorted({d for _, d in keys}))
        .order_by("product_id", "date")
    }


def _add_to_counts(changes: list[tuple[int, datetime.date, int]]) -> None:
    """One UPDATE for many (product, day, delta) rows."""
    values = ", ".join(["(%s, %s::date, %s)"] * len(changes))
    params = [value for change in changes for value in change]
    with connection.cursor() as cursor:
        cursor.execute(
            # Never below zero, even for rows written outside these paths (imports, fixtures).
            f"UPDATE bookings_daycount AS c SET booked = GREATEST(c.booked + v.delta, 0) "
            f"FROM (VALUES {values}) AS v(product_id, date, delta) "
            "WHERE c.product_id = v.product_id AND c.date = v.date",
            params,
        )


def checkout(*, user, payment_method: str, now: datetime.datetime | None = None) -> CheckoutResult:
    """Book everything in the cart and pay for it, all or nothing.

    A method the cart's services refuse, or that cannot work now (card without a configured
    provider), is refused before anything is booked (409, cart untouched). If the card payment
    still fails to start once the order is placed, the order is put back in the cart
    (payment_methods.put_order_back_in_cart) and PaymentProviderUnavailable (503) is raised.
    """
    from tenant_apps.bookings.payment_methods import check_payment_method

    now = now or _now()
    if payment_method not in PaymentChoice.values:
        raise InvalidBooking(
            fields={"payment_method": ["Moyen de paiement : wallet, card ou direct_debit."]}
        )
    family_id = family_id_of(user)
    if family_id is None:
        raise CartEmpty()
    commune = _commune()
    with transaction.atomic():
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
        pricing = {}
        for product_id, product_items in by_product.items():
            dates = sorted({i.date for i in product_items})
            context = BookingContext.load(products[product_id], family_id, dates)
            pricing[product_id] = pricing_for(context)
            # Deadlines and capacity are checked again: time has passed since "Ajouter au panier".
            late = [d for d in dates if now >= context.booking_deadline(d)]
            if late:
                raise DeadlinePassed(
                    f"Délai dépassé depuis l’ajout au panier : {_list_days(late)}. Retirez ces "
                    "jours du panier.",
                    fields={"dates": [d.isoformat() for d in late]},
                )
        result = _place_order(
            family_id=family_id,
            user=user,
            items=items,
            products=products,
            payment_method=payment_method,
            commune=commune,
            pricing=pricing,
        )
        cart.items.all().delete()
    if payment_method == PaymentChoice.CARD:
        result = _start_card_payment(result, user, commune)
    return result


def _start_card_payment(result: CheckoutResult, user, commune) -> CheckoutResult:
    """After the order holds its places (committed), ask the provider for a card payment. If
    it cannot start, the order goes back in the cart: nothing held, charged or cancelled."""
    from shared_apps.common.errors import DomainError
    from shared_apps.payments.services import start_checkout_payment
    from tenant_apps.bookings.payment_methods import put_order_back_in_cart

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
        put_order_back_in_cart(order.pk, now=_now())
        raise
    Order.objects.filter(pk=order.pk).update(payment_id=payment.pk)
    order.payment_id = payment.pk
    return CheckoutResult(order, result.reservations, payment)


def _place_order(
    *,
    family_id: int,
    user,
    items: list,
    products: dict[int, Product],
    payment_method: str,
    commune,
    pricing: dict[int, tuple[int, int]],
    on_behalf: bool = False,
    consent_note: str = "",
) -> CheckoutResult:
    """Take the places, price them, write the order and its reservations, pay: inside the
    caller's transaction, so any refusal undoes everything.

    `pricing` gives each product's (full, sibling) price for this family in cents (quotient
    familial applied). Prices are decided here, under the day counters' locks, from the family's
    children already holding each day (rules.day_price: the first pays the full price, the
    others the sibling price), so what the cart showed earlier cannot undercut the rule.
    """
    _take_places(items, products)
    _price_items(items, family_id, pricing)
    # A closure decided since "Ajouter au panier" wins (it locks the same counters first).
    closed = sorted(
        Closure.objects.filter(
            service_id__in={p.service_id for p in products.values()},
            date__in={item.date for item in items},
        ).values_list("service_id", "date")
    )
    closed_days = [
        item.date for item in items if (products[item.product_id].service_id, item.date) in closed
    ]
    if closed_days:
        raise DayClosed(
            f"Le service a fermé ce jour-là depuis l’ajout au panier : {_list_days(closed_days)}.",
            fields={"dates": sorted({d.isoformat() for d in closed_days})},
        )
    status = {
        PaymentChoice.WALLET: OrderStatus.PAID,
        PaymentChoice.DIRECT_DEBIT: OrderStatus.TO_INVOICE,
        PaymentChoice.CARD: OrderStatus.AWAITING_PAYMENT,
    }[payment_method]
    order = Order.objects.create(
        family_id=family_id,
        placed_by=user,
        status=status,
        payment_method=payment_method,
        amount_cents=sum(item.price_cents for item in items),
        on_behalf=on_behalf,
        consent_note=consent_note,
    )
    try:
        with transaction.atomic():
            reservations = Reservation.objects.bulk_create(
                Reservation(
                    order=order,
                    family_id=family_id,
                    child_id=item.child_id,
                    product_id=item.product_id,
                    variant_id=item.variant_id,
                    date=item.date,
                    price_cents=item.price_cents,
                    full_price_cents=pricing[item.product_id][0],
                    sibling_price_cents=pricing[item.product_id][1],
                    paid_by=payment_method,
                )
                for item in items
            )
    except IntegrityError as exc:  # booked meanwhile (another checkout, or staff)
        raise AlreadyBooked(
            "Un de ces jours a été réservé entre-temps. Rien n’a été débité."
        ) from exc
    if payment_method == PaymentChoice.WALLET:
        _pay_order_from_wallet(order, items, products, commune, user)
    elif payment_method == PaymentChoice.CARD:
        _pay_order_from_wallet(order, items, products, commune, user, rest_by_card=True)
    return CheckoutResult(order, reservations)


def _price_items(items: list, family_id: int, pricing: dict[int, tuple[int, int]]) -> None:
    """Set each item's price_cents: the marginal price of adding it to the family's day (full
    for the first child holding the product that day, sibling price for the others). One
    query; the caller holds the day counters' locks.

    A place whose card payment is still pending does not count as a sibling yet: if that order
    is released, the new place must not be left at the reduced price; if the card money
    arrives, the day is settled then and the overpaid part comes back (card.fulfil_checkout).
    """
    holding = Counter(
        Reservation.objects.filter(
            family_id=family_id,
            product_id__in={item.product_id for item in items},
            date__in={item.date for item in items},
            status__in=LIVE_STATUSES,
        )
        .exclude(order__status=OrderStatus.AWAITING_PAYMENT)
        .values_list("product_id", "date")
    )
    for item in sorted(items, key=lambda i: (i.product_id, i.date, i.child_id)):
        full, sibling = pricing[item.product_id]
        item.price_cents = sibling if holding[(item.product_id, item.date)] else full
        holding[(item.product_id, item.date)] += 1


def pricing_for(context: BookingContext) -> tuple[int, int]:
    """(full, sibling) price of the context's product for its family, in cents."""
    return context.price(1), context.price(2)


@dataclass
class _Line:
    """A place to book that is not in a cart (staff booking on a family's behalf)."""

    child_id: int
    product_id: int
    date: datetime.date
    price_cents: int = 0  # set by _price_items
    variant_id: int | None = None


def book_on_behalf(
    *, staff_user, child_id, product_id, dates, consent_note: str, now=None
) -> CheckoutResult:
    """The "cagnotte" (guide step 7): an agent books for a family that forgot, with its
    agreement, paid from its wallet. The booking deadline is waived (that is the point), but
    not closures, capacity, enrolment or past days. Audited; the family is told by e-mail."""
    from config.celery import enqueue_on_commit
    from shared_apps.audit.services import record
    from tenant_apps.bookings.tasks import send_booked_on_behalf_email_task

    now = now or _now()
    consent_note = (consent_note or "").strip()
    if not consent_note or len(consent_note) > 500:
        raise InvalidBooking(
            "Notez l’accord de la famille (qui, quand, comment).",
            fields={"consent_note": ["Obligatoire, 500 caractères au plus."]},
        )
    product = _product(product_id)
    dates = _parse_dates(dates)
    enrollment = Enrollment.objects.filter(
        service_id=product.service_id, child_id=_as_int(child_id)
    ).first()
    if enrollment is None:
        raise NotEnrolled(fields={"child_id": [NotEnrolled.message]})
    family_id = enrollment.family_id
    today = timezone.localdate(now)
    past = [d for d in dates if d < today]
    far = [d for d in dates if d > today + datetime.timedelta(days=BOOKING_HORIZON_DAYS)]
    if far:
        raise DayClosed(
            f"Hors calendrier : {_list_days(far)}.", fields={"dates": [d.isoformat() for d in far]}
        )
    if past:
        raise DeadlinePassed(
            f"Jour passé : {_list_days(past)}.", fields={"dates": [d.isoformat() for d in past]}
        )
    context = BookingContext.load(product, family_id, dates)
    closed = [d for d in dates if not context.is_open(d)]
    if closed:
        raise _day_closed(context, closed)
    commune = _commune()
    with transaction.atomic():
        lock_active_commune(commune)  # the request's commune may be a stale cached copy
        lines = [_Line(enrollment.child_id, product.pk, day) for day in dates]
        result = _place_order(
            family_id=family_id,
            user=staff_user,
            items=lines,
            products={product.pk: product},
            payment_method=PaymentChoice.WALLET,
            commune=commune,
            pricing={product.pk: pricing_for(context)},
            on_behalf=True,
            consent_note=consent_note,
        )
        record(
            actor=staff_user,
            commune=commune,
            action="booking.on_behalf",
            target_type="order",
            target_id=result.order.pk,
            family_id=family_id,
            details={
                "child_id": enrollment.child_id,
                "dates": [d.isoformat() for d in dates],
                "consent_note": consent_note,
                "amount_cents": result.order.amount_cents,
            },
        )
        enqueue_on_commit(send_booked_on_behalf_email_task, commune.schema_name, result.order.pk)
    return result


def _pay_order_from_wallet(
    order: Order, items, products, commune, user, *, rest_by_card: bool = False
) -> None:
    """Pay each service's share from the wallet (its pocket, then "tous services"). With
    `rest_by_card`, what the wallet cannot pay is left for the card (order.card_by_service);
    otherwise a shortfall refuses the whole order."""
    from shared_apps.wallet.services import available_for

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
            source_key=f"order:{commune.schema_name}:{order.pk}:{service_id}",
            family_id=order.family_id,
            commune=commune,
            service_id=service_id,
            amount_cents=from_wallet,
            description=f"Réservations {service.name} (commande n° {order.pk})",
            created_by=user,
            low_balance_threshold_cents=service.low_balance_threshold_cents,
        )
        wallet_total += from_wallet
    order.wallet_cents = wallet_total
    order.card_cents = sum(card_by_service.values())
    order.card_by_service = card_by_service
    if rest_by_card and not order.card_cents:
        order.status = OrderStatus.PAID  # the wallet covered it all: no card needed
    order.save(update_fields=["wallet_cents", "card_cents", "card_by_service", "status"])


def cancel_reservation(
    *, user, reservation_id, now: datetime.datetime | None = None, staff=False
) -> CancelResult:
    """ "Mes réservations" → the red cross → "OK": cancel one child's day and settle the family's
    day (settlement.py): within the deadline the family gets back what it paid beyond the price
    of the children still booked (so the sibling reduction follows who remains); after it, the
    product's late rule applies to that amount (or the day can no longer be cancelled).

    The refund is decided now, whatever the payment: paid by wallet or card, it goes to the
    service's pocket now; a card payment still pending records it and pays it into the pocket
    when the card money arrives; by direct debit it is taken off the invoice.
    Raises ReservationNotFound (not this family's), NotCancellable (already cancelled, marked
    at attendance, deadline passed with no late rule, day over).
    """
    now = now or _now()
    query = Reservation.objects.all()
    if not staff:
        query = query.filter(family_id=family_id_of(user))
    found = (
        query.filter(pk=_as_int(reservation_id)).values("family_id", "product_id", "date").first()
    )
    if found is None:
        raise ReservationNotFound()
    key = (found["family_id"], found["product_id"], found["date"])
    with transaction.atomic():
        # Locks in the order every booking path uses: the day's counter, the day's reservations,
        # their orders, then (inside the wallet) the accounts.
        _lock_counters([(found["product_id"], found["date"])])
        day = settlement.lock_days([key])[key]
        reservation = next(r for r in day if r.pk == _as_int(reservation_id))
        if reservation.status != ReservationStatus.BOOKED:
            raise NotCancellable(why_not_cancellable(reservation, now=now))
        calendar = commune_calendar(_commune())
        percent = cancellation_refund_percent(reservation, now=now, calendar=calendar)
        if percent is None:
            raise NotCancellable(why_not_cancellable(reservation, now=now, calendar=calendar))
        decided = rules.settle_day(
            settlement.places_of(day), cancelled={reservation.pk}, refund_percent=percent
        )
        reservation.status = ReservationStatus.CANCELLED
        reservation.cancelled_at = now
        reservation.cancelled_by = user
        reservation.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        _add_to_counts([(reservation.product_id, reservation.date, -1)])
        total_refund = decided.refunded_now(settlement.places_of(day))
        split = settlement.refund_split(decided, day)
        settlement.apply(
            decided,
            day,
            commune=_commune(),
            user=user,
            description=f"Annulation {reservation.product.name} du {reservation.date:%d/%m/%Y}",
        )
        pocket = None
        if total_refund and reservation.order.status == OrderStatus.AWAITING_PAYMENT:
            pocket = "pending_card"  # paid into the service's pocket when the card money arrives
        elif total_refund and reservation.paid_by in (PaymentChoice.WALLET, PaymentChoice.CARD):
            pocket = "service"
        elif reservation.paid_by == PaymentChoice.DIRECT_DEBIT:
            pocket = "invoice"  # not billed (or billed only the late share)
    return CancelResult(reservation, total_refund, pocket, split)


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def mark_attendance(*, staff_user, day, product_id, present, absent) -> int:
    """ "Pointage": who came and who did not, among the children booked that day."""
    from shared_apps.audit.services import record

    product = _product(product_id)
    try:
        day = day if isinstance(day, datetime.date) else datetime.date.fromisoformat(str(day))
        present, absent = {int(c) for c in present or []}, {int(c) for c in absent or []}
    except (TypeError, ValueError) as exc:
        raise InvalidBooking("Jour ou enfants invalides.") from exc
    if present & absent:
        raise InvalidBooking("Un enfant ne peut pas être à la fois présent et absent.")
    if day > timezone.localdate():
        raise InvalidBooking(
            "On ne pointe pas un jour à venir.", fields={"date": ["Jour à venir."]}
        )
    with transaction.atomic():
        # The booking paths' lock order: the day's counter, then its reservations by id.
        _lock_counters([(product.pk, day)])
        booked = {
            r.child_id: r
            for r in Reservation.objects.select_for_update(of=("self",))
            .filter(product=product, date=day, status__in=LIVE_STATUSES)
            .order_by("pk")
        }
        unknown = (present | absent) - set(booked)
        if unknown:
            raise InvalidBooking(
                "Ces enfants n’ont pas de réservation ce jour-là.",
                fields={"children": [str(c) for c in sorted(unknown)]},
            )
        for child_id in present:
            booked[child_id].status = ReservationStatus.ATTENDED
        for child_id in absent:
            booked[child_id].status = ReservationStatus.ABSENT
        changed = [booked[c] for c in present | absent]
        Reservation.objects.bulk_update(changed, ["status"])
        record(
            actor=staff_user,
            commune=_commune(),
            action="booking.attendance",
            target_type="product_day",
            target_id=f"{product.pk}:{day.isoformat()}",
            details={"present": sorted(present), "absent": sorted(absent)},
        )
    return len(changed)


def cancel_day_for_closure(*, service_id: int, day: datetime.date, reason: str) -> int:
    """The commune closes a day: cancel its reservations and give back everything paid for it,
    whatever the deadlines, late fees included (the service is not provided). Wallet- and
    card-paid money goes to the service's pocket; direct-debit days are not invoiced; an unpaid
    card order gets its money in the pocket if it ever arrives. Returns how many were live.
    Runs inside the caller's transaction."""
    commune = _commune()
    product_ids = list(
        Product.objects.filter(service_id=service_id).order_by("pk").values_list("pk", flat=True)
    )
    _lock_counters([(product_id, day) for product_id in product_ids])
    keys = set(
        Reservation.objects.filter(product_id__in=product_ids, date=day).values_list(
            "family_id", "product_id", "date"
        )
    )
    now = _now()
    cancelled = []
    days = settlement.lock_days(keys)
    # Many families are refunded in this one transaction: their pockets and the revenue account
    # are locked at once, in id order, as a single family's payment locks them.
    lock_refund_accounts(
        family_ids={
            r.family_id
            for family_day in days.values()
            for r in family_day
            if r.paid_by in (PaymentChoice.WALLET, PaymentChoice.CARD)
        },
        commune=commune,
        service_id=service_id,
    )
    for family_day in days.values():
        live = [r for r in family_day if r.status == ReservationStatus.BOOKED]
        decided = rules.settle_day(
            settlement.places_of(family_day),
            cancelled={r.pk for r in live},
            waive_late_fees=True,
        )
        for reservation in live:
            reservation.status = ReservationStatus.CANCELLED
            reservation.cancelled_at = now
        Reservation.objects.bulk_update(live, ["status", "cancelled_at"])
        settlement.apply(
            decided,
            family_day,
            commune=commune,
            description=f"Fermeture du {day:%d/%m/%Y} ({reason[:80]}) : "
            f"{family_day[0].product.name}",
        )
        cancelled.extend(live)
    freed = Counter(r.product_id for r in cancelled)
    if freed:
        _add_to_counts([(product_id, day, -count) for product_id, count in sorted(freed.items())])
    return len(cancelled)
