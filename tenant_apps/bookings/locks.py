"""Locks of the booking paths, and the day counters they guard.

THE lock order — every path that books, cancels, closes a day or releases a card order takes
its locks in this order, each kind in a stable key order, so no two of them can deadlock:

1. advisory locks (transaction-scoped, in memory: no row, no write), one statement: the
   (product, day) locks, in (product, day) order — SHARED by the paths that touch one family's
   places (a checkout, a cancellation), EXCLUSIVE by the paths that touch a whole day (a
   closure, the attendance register, a card order released or paid, a product's counters
   recounted: bookings.signals); then the (family, product, day) locks, EXCLUSIVE, in the same
   order: `lock_booking_days`, also taken by `lock_counters`. Checkouts of different families
   therefore never wait for each other here; a closure waits for the checkouts of its day in
   flight and they wait for it, so a closure committed before a checkout's closure check is seen
   by it, and none can commit during it. One family's day is priced as a whole (sibling price,
   `rules.marginal_prices`, `rules.settle_day`) under its (family, product, day) lock;
2. the day counters (`DayCount`), only for products with a daily capacity, in (product, day)
   order: `lock_counters` (cancellations, closures…) or `take_places` (checkouts: one upsert
   adding the order's places, checked against the capacity; done last before the payment, so
   the row is held for the payment and the COMMIT only);
3. the family's day reservations, `select_for_update(of=self)`, in id order: `lock_days`;
4. their orders, in id order: `lock_days` again;
5. the wallet accounts, in pk order: inside `shared_apps.wallet.services`.

Before 1, a checkout (and a one-step booking whose days are in the cart) also locks its cart,
and reads the commune's row FOR SHARE (an attendance marking and a medical certificate read it
too) (`tenants.services.lock_active_commune`). Everything here runs inside the caller's transaction
(the locks last until it ends) and asserts it.

Products without a capacity have no counters: nothing counts their places, and no path takes
a row lock per day for them (a checkout still asks, in its one counters' statement, whether the
capacity is still none). A counter is created at the places live on its first use, so a
product given a capacity starts right; a product's counters are dropped and recounted, under
the days' exclusive locks, whenever its capacity may have changed (bookings.signals), so one
left from an earlier capacity never stays stale.
"""

from __future__ import annotations

import datetime
import hashlib
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


def _advisory_key(*parts: object) -> int:
    """A signed 64-bit advisory lock key for `parts` in this commune's schema (the locks are
    database-wide; a collision only makes two unrelated days wait for each other)."""
    schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    text = ":".join(["marelle", schema, *map(str, parts)])
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


def lock_booking_days(
    places: Iterable[tuple[int, datetime.date]],
    family_days: Iterable[DayKey] = (),
    *,
    whole_day: bool = False,
) -> None:
    """Step 1: the advisory locks of these (product, day)s — shared, or exclusive with
    `whole_day` — then of these (family, product, day)s, exclusive; each kind in key order, in
    one statement. Held until the transaction ends."""
    _assert_in_transaction("lock_booking_days")
    days = sorted(set(places))
    families = sorted(set(family_days))
    keys = [_advisory_key("day", p, d.isoformat()) for p, d in days]
    keys += [_advisory_key("family-day", f, p, d.isoformat()) for f, p, d in families]
    exclusive = [whole_day] * len(days) + [True] * len(families)
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN k.x THEN pg_advisory_xact_lock(k.key)::text "
            "ELSE pg_advisory_xact_lock_shared(k.key)::text END "
            "FROM unnest(%s::bigint[], %s::boolean[]) WITH ORDINALITY AS k(key, x, n)",
            [keys, exclusive],
        )
        cursor.fetchall()


_CAPACITY_PRODUCTS = f'SELECT id FROM "{Product._meta.db_table}" WHERE daily_capacity IS NOT NULL'


def lock_counters(
    keys: Iterable[tuple[int, datetime.date]],
    *,
    family_id: int | None = None,
) -> dict[tuple[int, datetime.date], DayCount]:
    """Steps 1 and 2: the days' advisory locks (`lock_booking_days`: exclusive for the whole
    day, or, given `family_id`, shared for the day and exclusive for that family's day), then
    the counters of those (product, day)s whose product has a capacity, created if missing and
    locked in (product, day) order. Returns the counters by (product, day)."""
    _assert_in_transaction("lock_counters")
    keys = sorted(set(keys))
    if not keys:
        return {}
    if family_id is None:
        lock_booking_days(keys, whole_day=True)
    else:
        lock_booking_days(keys, [(family_id, p, d) for p, d in keys])
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
            f"FROM (VALUES {values}) AS v(product_id, date) "
            f"WHERE v.product_id IN ({_CAPACITY_PRODUCTS}) "
            "ORDER BY v.product_id, v.date ON CONFLICT DO NOTHING",
            [list(LIVE_STATUSES), *(value for key in keys for value in key)],
        )
    return {
        (c.product_id, c.date): c
        # `of`: the counters only — the product row joined for its capacity stays unlocked (a
        # capacity change holds it while it waits for the days' locks: bookings.signals).
        for c in DayCount.objects.select_for_update(of=("self",))
        .filter(
            product_id__in=sorted({p for p, _ in keys}),
            date__in=sorted({d for _, d in keys}),
            product__daily_capacity__isnull=False,
        )
        .order_by("product_id", "date")
    }


def add_to_day_counts(changes: list[tuple[int, datetime.date, int]]) -> None:
    """Move the (product, day) counters by their deltas, in one UPDATE; the caller holds their
    locks (`lock_counters`). Products without a capacity have no counter: nothing moves. Never
    below zero: the database's `count_not_negative` check refuses it (an IntegrityError, never
    a silent clamp)."""
    _assert_in_transaction("add_to_day_counts")
    if not changes:
        return
    values = ", ".join(["(%s, %s::date, %s)"] * len(changes))
    params = [value for change in changes for value in change]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE bookings_daycount AS c SET booked = c.booked + v.delta "
            f"FROM (VALUES {values}) AS v(product_id, date, delta) "
            "WHERE c.product_id = v.product_id AND c.date = v.date "
            f"AND c.product_id IN ({_CAPACITY_PRODUCTS})",
            params,
        )


def free_places(places: list[tuple[int, datetime.date]]) -> None:
    """Give back one place per (product, day) listed (cancelled or released reservations)."""
    freed = Counter(places)
    add_to_day_counts([(p, d, -count) for (p, d), count in sorted(freed.items())])


def take_places(places: list[tuple[int, datetime.date]], products: dict[int, Product]) -> None:
    """Step 2 for a checkout whose order and reservations are written (`places`: one
    (product, day) per reservation): count its places in the counters of the products that
    have a capacity, refusing (DayFull) any day that goes over it. The caller holds the days'
    advisory locks (`lock_booking_days`, step 1).

    One statement whatever the number of days: an upsert in (product, day) order, for the
    products whose capacity the database has now — read here, under the days' locks, not from
    `products`, which the caller read before them: a capacity set meanwhile is counted (its
    recount waits for this checkout: bookings.signals). It creates a missing counter at the
    places live that day (this order's included) or adds this order's places to it (counted
    here, not read back), returning the new counts and the capacity. A counter is row-locked
    from here to the COMMIT only; a product without a capacity has no counter and takes no
    row lock; a refusal rolls the whole checkout back.
    """
    _assert_in_transaction("take_places")
    wanted = Counter(places)
    keys = sorted(wanted)
    if not keys:
        return
    values = ", ".join(["(%s, %s::date, %s)"] * len(keys))
    params = [value for key in keys for value in (*key, wanted[key])]
    counters = f'"{DayCount._meta.db_table}"'
    reservations = f'"{Reservation._meta.db_table}"'
    products_table = f'"{Product._meta.db_table}"'
    with connection.cursor() as cursor:
        # A day's live places are counted only for a counter still missing: counting them for
        # every day of every checkout would read all of a busy day's places (a large town's
        # evening peak) while the earlier days' counters are already locked. An existing one
        # gets this order's places, `n`, from VALUES.
        cursor.execute(
            f"INSERT INTO {counters} AS c (product_id, date, booked) "
            "SELECT v.product_id, v.date, CASE WHEN EXISTS (SELECT 1 FROM "
            f"{counters} AS e WHERE e.product_id = v.product_id AND e.date = v.date) "
            f"THEN v.n ELSE (SELECT count(*) FROM {reservations} AS r "
            "WHERE r.product_id = v.product_id AND r.date = v.date AND r.status = ANY(%s)) END "
            f"FROM (VALUES {values}) AS v(product_id, date, n) "
            f"WHERE v.product_id IN ({_CAPACITY_PRODUCTS}) ORDER BY v.product_id, v.date "
            "ON CONFLICT (product_id, date) DO UPDATE SET booked = c.booked + "
            f"(SELECT w.n FROM (VALUES {values}) AS w(product_id, date, n) "
            "WHERE w.product_id = EXCLUDED.product_id AND w.date = EXCLUDED.date) "
            "RETURNING c.product_id, c.date, c.booked, "
            f"(SELECT p.daily_capacity FROM {products_table} AS p WHERE p.id = c.product_id)",
            [list(LIVE_STATUSES), *params, *params],
        )
        counted = cursor.fetchall()
    full = sorted(
        (p, d)
        for p, d, booked, capacity in counted
        if rules.over_capacity(booked - wanted[(p, d)], wanted[(p, d)], capacity)
    )
    if full:
        product_id, day = full[0]
        raise DayFull(
            f"Plus de place le {rules.day_label(day)} pour « {products[product_id].name} ».",
            fields={"dates": sorted({d.isoformat() for _, d in full})},
        )


def lock_days(keys: Iterable[DayKey]) -> dict[DayKey, list[Reservation]]:
    """Steps 3 and 4: lock every reservation of the given (family, product, day)s, then their
    orders, in id order; return them per day with `order` holding the locked (fresh) order
    row. After the days' locks and counters (steps 1 and 2)."""
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
