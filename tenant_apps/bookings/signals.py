"""Day counters follow the product's capacity.

Products without a capacity keep no counters (no hot row, issue 15): while a product has none,
its counters, if any, stop following the bookings. So when the capacity is set, changed or
removed, the product's counters are dropped and, with a capacity, counted again from the places
live on each day from today on (what the calendar and the add-to-cart check read), so a capacity
set again never starts from a stale count, which would let a day be overbooked.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from tenant_apps.bookings.locks import lock_booking_days
from tenant_apps.bookings.models import LIVE_STATUSES, DayCount, Reservation
from tenant_apps.catalog.models import Product


@receiver(post_save, sender=Product, dispatch_uid="bookings.counters_follow_capacity")
def counters_follow_capacity(sender, instance: Product, created: bool, update_fields, **kwargs):
    if created or (update_fields is not None and "daily_capacity" not in update_fields):
        return
    with transaction.atomic():
        # The lock order (locks.py): the days' advisory locks, exclusive, before their counters.
        # A checkout of one of these days in flight is waited for, and the ones after see the
        # recount: one could otherwise find the counter that is being dropped, count its places
        # into it, and have them lost with it (the day then overbooked).
        days = DayCount.objects.filter(product_id=instance.pk).values_list("date", flat=True)
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
                [instance.pk, timezone.localdate(), list(LIVE_STATUSES)],
            )
