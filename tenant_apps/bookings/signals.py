"""Day counters follow the product's capacity.

Products without a capacity keep no counters (no hot row, issue 15): while a product has none,
its counters, if any, stop following the bookings. So when the capacity is set, changed or
removed, the product's counters are dropped and, with a capacity, counted again from the places
live on each day from today on (what the calendar and the add-to-cart check read), so a capacity
set again never starts from a stale count, which would let a day be overbooked.

The recount holds every bookable day's lock exclusively (locks.py, step 1), today to the
booking horizon: it waits for the checkouts in flight, whose places it then counts, and the
checkouts after it wait for it and read the new capacity under their own locks
(`locks.take_places`). A save that leaves the capacity as it was recounts nothing and blocks
no booking.
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from tenant_apps.bookings.locks import lock_booking_days
from tenant_apps.bookings.models import LIVE_STATUSES, DayCount, Reservation
from tenant_apps.bookings.parsing import BOOKING_HORIZON_DAYS
from tenant_apps.catalog.models import Product

_UNKNOWN = object()


@receiver(pre_save, sender=Product, dispatch_uid="bookings.capacity_before_save")
def capacity_before_save(sender, instance: Product, update_fields, **kwargs):
    """Note the capacity the database has before the save (one query, for an existing
    product whose save may change it)."""
    instance._capacity_before = _UNKNOWN  # type: ignore[attr-defined]
    if instance.pk is None or (update_fields is not None and "daily_capacity" not in update_fields):
        return
    row = Product.objects.filter(pk=instance.pk).values_list("daily_capacity", flat=True)
    instance._capacity_before = next(iter(row), _UNKNOWN)  # type: ignore[attr-defined]


@receiver(post_save, sender=Product, dispatch_uid="bookings.counters_follow_capacity")
def counters_follow_capacity(sender, instance: Product, created: bool, update_fields, **kwargs):
    if created or (update_fields is not None and "daily_capacity" not in update_fields):
        return
    if getattr(instance, "_capacity_before", _UNKNOWN) == instance.daily_capacity:
        return  # the capacity did not change: the counters are right
    today = timezone.localdate()
    with transaction.atomic():
        days = [today + datetime.timedelta(days=n) for n in range(BOOKING_HORIZON_DAYS + 1)]
        lock_booking_days([(instance.pk, day) for day in days], whole_day=True)
        DayCount.objects.filter(product_id=instance.pk).delete()
        if instance.daily_capacity is None:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{DayCount._meta.db_table}" (product_id, date, booked) '
                f'SELECT product_id, date, count(*) FROM "{Reservation._meta.db_table}" '
                "WHERE product_id = %s AND date >= %s AND status = ANY(%s) "
                "GROUP BY product_id, date ORDER BY date ON CONFLICT DO NOTHING",
                [instance.pk, today, list(LIVE_STATUSES)],
            )
