"""Reads of the commune's catalogue (run inside the commune's schema)."""

from django.db.models import QuerySet

from tenant_apps.catalog.models import Service


def active_services() -> QuerySet[Service]:
    return Service.objects.filter(is_active=True).order_by("name")
