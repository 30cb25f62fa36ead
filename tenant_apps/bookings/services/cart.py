"""Use cases of the family's cart (guide step 4): add days — chosen, or by a weekly rhythm —
and remove them. Nothing is held or paid here: `checkout` books and pays what the cart holds.

The price shown for each day is `rules.price_for` at the child's sibling rank on that day
(`rules.sibling_ranks`); checkout prices the days again under the day counters' locks.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from shared_apps.common.errors import NotFound
from shared_apps.families.selectors import family_id_of
from tenant_apps.bookings import rules
from tenant_apps.bookings.errors import AlreadyBooked, InvalidBooking
from tenant_apps.bookings.inputs import BookingContext
from tenant_apps.bookings.models import LIVE_STATUSES, Cart, CartItem, Reservation
from tenant_apps.bookings.parsing import (
    as_int,
    parse_child_ids,
    parse_dates,
    parse_weekdays,
    rhythm_period,
)
from tenant_apps.bookings.selectors import calendar
from tenant_apps.bookings.services.checks import (
    active_product,
    check_children_enrolled,
    check_days,
    chosen_variant,
    family_of_booker,
)
from tenants.services import assert_on_schema

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune

CART_LIFETIME = datetime.timedelta(minutes=30)


def cart_of_family(family_id: int, *, now: datetime.datetime, lock: bool = False) -> Cart:
    """The family's cart, created if missing and emptied if expired; locked with `lock`."""
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


def refill_cart(
    family_id: int, lines: Sequence[Mapping[str, object]], *, now: datetime.datetime
) -> None:
    """Put lines (child_id, product_id, variant_id, date, price_cents) back in the family's
    cart at the prices they held, skipping any it already holds. Inside the caller's
    transaction."""
    cart = cart_of_family(family_id, now=now, lock=True)
    CartItem.objects.bulk_create(
        [CartItem(cart=cart, **line) for line in lines], ignore_conflicts=True
    )
    cart.expires_at = now + CART_LIFETIME
    cart.save(update_fields=["expires_at", "updated_at"])


def add_to_cart(
    *,
    commune: Commune,
    user: User,
    product_id: int | str,
    child_ids: Sequence[int | str],
    dates: Sequence[datetime.date | str],
    variant_id: int | str | None = None,
    now: datetime.datetime | None = None,
) -> list[CartItem]:
    """Put days in the family's cart for some children: all of them or none."""
    assert_on_schema(commune)
    now = now or timezone.now()
    family_id = family_of_booker(user)
    product = active_product(product_id)
    child_ids = parse_child_ids(child_ids)
    dates = parse_dates(dates)
    variant = chosen_variant(product, variant_id)
    context = BookingContext.load(product, family_id, dates, commune=commune)
    family_holds = check_days(context, child_ids, dates, family_id, now=now)
    with transaction.atomic():
        cart = _cart_for_adding(family_id, now=now)
        in_cart = list(
            CartItem.objects.filter(cart=cart, product=product, date__in=dates).values_list(
                "child_id", "date"
            )
        )
        wanted = set(child_ids)
        already = {(c, d) for c, d in in_cart if c in wanted}
        # How many of the family's places each day already holds (booked or in its cart).
        holding = Counter(d for _, d in family_holds) + Counter(d for _, d in in_cart)
        ranks = rules.sibling_ranks(child_ids, dates, holding)
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
    return items


def _cart_for_adding(family_id: int, *, now: datetime.datetime) -> Cart:
    """The family's cart, created if missing, locked, its expiry pushed back to now +
    CART_LIFETIME: one upsert. An expired cart (the upsert leaves it, locked) is emptied first
    (cart_of_family). Inside the caller's transaction."""
    expires_at = now + CART_LIFETIME
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{Cart._meta.db_table}" AS c (family_id, expires_at, updated_at) '
            "VALUES (%s, %s, %s) ON CONFLICT (family_id) DO UPDATE SET "
            "expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at "
            "WHERE c.expires_at > %s RETURNING c.id",
            [family_id, expires_at, now, now],
        )
        row = cursor.fetchone()
    if row is None:  # its cart had expired: it holds nothing any more
        cart = cart_of_family(family_id, now=now, lock=True)
        cart.expires_at = expires_at
        cart.save(update_fields=["expires_at", "updated_at"])
        return cart
    cart = Cart(pk=row[0], family_id=family_id, expires_at=expires_at, updated_at=now)
    cart._state.adding = False
    return cart


def add_days_to_cart(
    *,
    commune: Commune,
    user: User,
    product_id: int | str,
    child_ids: Sequence[int | str],
    dates: Sequence[datetime.date | str],
    variant_id: int | str | None = None,
) -> tuple[list[CartItem], int]:
    """The calendar's "Ajouter au panier": a day already booked for one of the chosen children
    ("Réservé : Léa — cocher pour Hugo") is added for the others only; anything else wrong is
    refused as by add_to_cart. All or nothing. Returns (items, (child, day) pairs skipped).

    The lists are bounded and the children checked (this family's, enrolled) before anything
    is read about their days: ChildNotFound for any other child, InvalidBooking for bad input.
    """
    assert_on_schema(commune)
    family_id = family_of_booker(user)
    product = active_product(product_id)
    ids = parse_child_ids(child_ids)
    days = parse_dates(dates)
    check_children_enrolled(family_id, product, ids)
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
    return _add_groups(commune, user, product_id, groups, variant_id), skipped


def add_weekly_rhythm_to_cart(
    *,
    commune: Commune,
    user: User,
    product_id: int | str,
    child_ids: Sequence[int | str],
    weekdays: Sequence[int | str],
    start: datetime.date,
    end: datetime.date,
    variant_id: int | str | None = None,
    now: datetime.datetime | None = None,
) -> tuple[list[CartItem], int]:
    """ "Réservez par semaine, par mois…": the rhythm's days that can be booked for every chosen
    child are added; closed, late or booked ones are skipped and counted.

    Inputs: at most MAX_CHILDREN_PER_REQUEST child ids, one to seven weekdays, a period of
    MAX_RHYTHM_DAYS at most. Returns (items added, days skipped). Errors: InvalidBooking (400)
    for bad input or nothing bookable; ChildNotFound (404), the same for any child that is not
    this family's enrolled child, raised before any calendar is computed.
    """
    assert_on_schema(commune)
    family_id = family_of_booker(user)
    product = active_product(product_id)
    ids = parse_child_ids(child_ids)
    weekdays = parse_weekdays(weekdays)
    start, end = rhythm_period(start, end)
    check_children_enrolled(family_id, product, ids)
    statuses: dict[datetime.date, set[str]] = {}
    for child_id in ids:
        for day in calendar(
            commune=commune,
            user=user,
            product=product,
            child_id=child_id,
            start=start,
            end=end,
            now=now,
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
    added = _add_groups(commune, user, product.pk, {tuple(ids): days}, variant_id)
    return added, len(wanted) - len(days)


def _add_groups(
    commune: Commune,
    user: User,
    product_id: int | str,
    groups: dict[tuple[int, ...], list[datetime.date]],
    variant_id: int | str | None,
) -> list[CartItem]:
    with transaction.atomic():  # every group, or none
        return [
            item
            for ids, days in groups.items()
            for item in add_to_cart(
                commune=commune,
                user=user,
                product_id=product_id,
                child_ids=list(ids),
                dates=days,
                variant_id=variant_id,
            )
        ]


def remove_cart_item(*, commune: Commune, user: User, item_id: int | str) -> None:
    """Take one item out of the family's cart; NotFound when it is not in it."""
    assert_on_schema(commune)
    # Not an id, or no family (None), matches no row.
    deleted, _ = CartItem.objects.filter(
        pk=as_int(item_id),
        cart__family_id=family_id_of(user),  # type: ignore[misc]
    ).delete()
    if not deleted:
        raise NotFound("Élément du panier introuvable.")


def delete_stale_carts(
    *, commune: Commune, now: datetime.datetime, idle: datetime.timedelta
) -> int:
    """Delete `commune`'s carts expired and untouched for `idle` (with their items: an expired
    cart holds nothing anyway, `cart_of_family`). A cart refreshed meanwhile is kept: the
    database re-reads the condition on the locked row. Returns how many carts went."""
    assert_on_schema(commune)
    stale = Cart.objects.filter(expires_at__lte=now, updated_at__lte=now - idle)
    return stale.delete()[1].get(Cart._meta.label, 0)
