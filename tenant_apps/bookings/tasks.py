"""Booking tasks, thin: each runs in the commune its first argument names (TenantTask) and
hands that commune to the use case or the e-mail."""

from __future__ import annotations

from config.celery import TenantTask, app
from shared_apps.common.links import absolute_url
from shared_apps.families.models import Guardian
from shared_apps.notifications.email import send_templated_email
from tenant_apps.bookings.models import Order
from tenant_apps.bookings.services.card_orders import release_unpaid_orders
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


@app.task(base=TenantTask)
def release_unpaid_orders_task(schema_name: str) -> int:
    return release_unpaid_orders(commune=Commune.objects.get(schema_name=schema_name))


@app.task
def release_unpaid_orders_everywhere() -> None:
    """Beat fan-out: one task per active commune, each in its own schema."""
    for schema_name in Commune.objects.filter(is_active=True).values_list("schema_name", flat=True):
        release_unpaid_orders_task.delay(schema_name)
