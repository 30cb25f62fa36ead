"""Booking e-mails, sent in the commune's schema named by the task."""

from __future__ import annotations

from django.db import connection

from config.celery import TenantTask, app
from shared_apps.common.links import absolute_url
from shared_apps.families.models import Guardian
from shared_apps.notifications.email import send_templated_email
from tenant_apps.bookings.models import Order
from tenants.urls import commune_reverse


@app.task(base=TenantTask)
def send_booked_on_behalf_email_task(schema_name: str, order_id: int) -> None:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return
    reservations = list(order.reservations.select_related("product", "child").order_by("date"))
    commune = connection.tenant
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


@app.task(base=TenantTask)
def release_unpaid_orders_task(schema_name: str) -> int:
    from tenant_apps.bookings.card import release_unpaid_orders

    return release_unpaid_orders()


@app.task
def release_unpaid_orders_everywhere() -> None:
    """Beat fan-out: one task per active commune, each in its own schema."""
    from tenants.models import Commune

    for schema_name in Commune.objects.filter(is_active=True).values_list("schema_name", flat=True):
        release_unpaid_orders_task.delay(schema_name)
