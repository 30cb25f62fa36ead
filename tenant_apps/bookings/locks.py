"""Row locks of the booking paths, and the day counters they guard.

THE lock order — every path that books, cancels, closes a day or releases a card order takes
its locks in this order, each kind in a stable key order, so no two of them can deadlock:

1. the day counters (`DayCount`), in (product, day) order: `lock_counters` (also through
   `take_places`); they are created on first use, counting the places already live;
2. the family's day reservations, `select_for_update(of=self)`, in id order: `lock_days`;
3. their orders, in id order: `lock_days` again;
4. the wallet accounts, in pk order: inside `shared_apps.wallet.services.post_transaction`.

Before 1, a checkout also locks its cart and reads the commune's row FOR SHARE (an attendance
marking and a medical certificate read it too)
(`tenants.services.lock_active_commune`). Everything here runs inside the caller's transaction
(the locks last until it ends) and asserts it.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import connection, transaction

from tenant_apps.bookings import rules
from tenant_apps.bookings.errors import DayFull
from tenant_apps.bookings.models import LIVE_STATUSES, DayCount, Order, Reservation
from tenant_apps.catalog.models import Product

DayKey = tuple[int, int, datetime.date]  # (family, product, day)


def _assert_in_transaction(what: str) -> None:
    assert transaction.get_connection().in_atomic_block, f"{what} needs the caller's transaction"


def lock_counters(
    keys: Iterable[tuple[int, datetime.date]],
) -> dict[tuple[int, datetime.date], DayCount]:
    """Step 1: lock the (product, day) counters, creating missing ones, in (product, day)
    order. Returns them by (product, day)."""
    _assert_in_transaction("lock_counters")
    keys = sorted(set(keys))
    if not keys:
        return {}
    # A missing counter starts at the places already live that day (none, on the booking
    # paths; some, for reservations written outside them: imports, fixtures), so it never has
    # to go below zero when they are cancelled.
    values = ", ".join(["(%s, %s::date)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{DayCount._meta.db_table}" (product_id, date, booked) '
            "SELECT v.product_id, v.date, (SELECT count(*) FROM "
            f'"{Reservation._meta.db_table}" AS r WHERE r.product_id = v.product_id '
            "AND r.date = v.date AND r.status = ANY(%s)) "
            f"FROM (VALUES {values}) AS v(product_id, date) ON CONFLICT DO NOTHING",
            [list(LIVE_STATUSES), *(value for key in keys for value in key)],
        )
    return {
        (c.product_id, c.date): c
        for c in DayCount.objects.select_for_update()
        .filter(product_id__in=sorted({p for p, _ in keys}), date__in=sorted({d for _, d in keys}))
        .order_by("product_id", "date")
    }


def add_to_day_counts(changes: list[tuple[int, datetime.date, int]]) -> None:
    """Move the (product, day) counters by their deltas, in one UPDATE; the caller holds their
    locks. Never below zero: the database's `count_not_negative` check refuses it (an
    IntegrityError, never a silent clamp)."""
    _assert_in_transaction("add_to_day_counts")
    if not changes:
        return
    values = ", ".join(["(%s, %s::date, %s)"] * len(changes))
    params = [value for change in changes for value in change]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE bookings_daycount AS c SET booked = c.booked + v.delta "
            f"FROM (VALUES {values}) AS v(product_id, date, delta) "
            "WHERE c.product_id = v.product_id AND c.date = v.date",
            params,
        )


def free_places(places: list[tuple[int, datetime.date]]) -> None:
    """Give back one place per (product, day) listed (cancelled or released reservations)."""
    freed = Counter(places)
    add_to_day_counts([(p, d, -count) for (p, d), count in sorted(freed.items())])


def take_places(places: list[tuple[int, datetime.date]], products: dict[int, Product]) -> None:
    """Step 1 for a booking: count one place per (product, day) listed, refusing (DayFull) any
    day that would go over its capacity (rules.over_capacity).

    Three queries whatever the number of days: create the missing counters, lock them all in
    (product, day) order — so concurrent checkouts queue instead of deadlocking — then add.
    """
    wanted = Counter(places)
    keys = sorted(wanted)
    locked = lock_counters(keys)
    full = [
        (p, d)
        for p, d in keys
        if rules.over_capacity(locked[(p, d)].booked, wanted[(p, d)], products[p].daily_capacity)
    ]
    if full:
        product_id, day = full[0]
        raise DayFull(
            f"Plus de place le {rules.day_label(day)} pour « {products[product_id].name} ».",
            fields={"dates": sorted({d.isoformat() for _, d in full})},
        )
    add_to_day_counts([(p, d, wanted[(p, d)]) for p, d in keys])


def lock_days(keys: Iterable[DayKey]) -> dict[DayKey, list[Reservation]]:
    """Steps 2 and 3: lock every reservation of the given (family, product, day)s, then their
    orders, in id order; return them per day with `order` holding the locked (fresh) order
    row. After the day counters (step 1)."""
    _assert_in_transaction("lock_days")
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
    days: dict[DayKey, list[Reservation]] = defaultdict(list)
    for reservation in reservations:
        reservation.order = orders[reservation.order_id]
        days[(reservation.family_id, reservation.product_id, reservation.date)].append(reservation)
    return days
