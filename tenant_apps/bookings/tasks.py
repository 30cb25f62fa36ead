"""Booking tasks, thin: each runs in the commune its first argument names (TenantTask) and
hands that commune to the use case or the e-mail."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from config.celery import TenantTask, app
from shared_apps.common.links import absolute_url
from shared_apps.families.models import Guardian
from shared_apps.jobs.scheduling import fan_out, job_task
from shared_apps.notifications.email import send_templated_email
from tenant_apps.bookings.models import Order
from tenant_apps.bookings.services.card_orders import release_unpaid_orders
from tenant_apps.bookings.services.cart import delete_stale_carts
from tenant_apps.bookings.services.reminders import send_booking_reminders
from tenants.models import Commune
from tenants.urls import commune_reverse


@app.task(base=TenantTask)
def send_booked_on_behalf_email_task(schema_name: str, order_id: int) -> None:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return
    reservations = list(order.reservations.select_related("product", "child").order_by("date"))
    commune = Commune.objects.get(schema_name=schema_name)
    link = absolute_url(commune_reverse(commune, "bookings-mine"))
    emails = Guardian.objects.filter(family_id=order.family_id).values_list(
        "user__email", flat=True
    )
    for email in emails:
        send_templated_email(
            to=email,
            template="booked_on_behalf",
            context={
                "order": order,
                "reservations": reservations,
                "commune": commune,
                "link": link,
            },
        )


# --- Scheduled jobs (shared_apps.jobs: retried with backoff, recorded in JobRun) ----------------
# Frequent sub-tasks (every few minutes × every commune) record a run only when they retry or
# fail (records_success=False); their fan-out records every run.


@job_task(tenant=True, records_success=False)
def release_unpaid_orders_task(schema_name: str) -> int:
    """Give back the places of the commune's card orders left unpaid (idempotent: an order
    paid or released meanwhile is skipped). Returns how many were released."""
    return release_unpaid_orders(commune=Commune.objects.get(schema_name=schema_name))


@job_task()
def release_unpaid_orders_everywhere() -> int:
    """Beat (every 5 minutes): one sub-task per commune taking jobs."""
    return fan_out(release_unpaid_orders_task)


@job_task(tenant=True, records_success=False)
def delete_stale_carts_task(schema_name: str) -> int:
    """Delete the commune's carts expired and idle for CART_IDLE_HOURS (idempotent)."""
    return delete_stale_carts(
        commune=Commune.objects.get(schema_name=schema_name),
        now=timezone.now(),
        idle=datetime.timedelta(hours=settings.CART_IDLE_HOURS),
    )


@job_task()
def delete_stale_carts_everywhere() -> int:
    """Beat (hourly): one sub-task per commune taking jobs."""
    return fan_out(delete_stale_carts_task)


@job_task(tenant=True)
def send_booking_reminders_task(schema_name: str) -> int:
    """E-mail the commune's families who have booked nothing for next week, before the booking
    deadline (once per family, service and week; parents may turn them off). Returns how
    many families were e-mailed."""
    return send_booking_reminders(
        commune=Commune.objects.get(schema_name=schema_name), now=timezone.now()
    )


@job_task()
def send_booking_reminders_everywhere() -> int:
    """Beat (daily): one sub-task per commune taking jobs."""
    return fan_out(send_booking_reminders_task)
