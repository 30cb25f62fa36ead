from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from shared_apps.directory.models import PublishedService
from tenants.models import Commune


def communes_with_services() -> QuerySet[Commune]:
    """Active communes, each with `.listed_services` (active ones): two queries in all."""
    return (
        Commune.objects.filter(is_active=True)
        .order_by("name")
        .prefetch_related(
            Prefetch(
                "published_services",
                queryset=PublishedService.objects.filter(is_active=True).order_by("name"),
                to_attr="listed_services",
            )
        )
    )


def published_service(commune, service_id: int) -> PublishedService | None:
    return PublishedService.objects.filter(commune=commune, service_id=service_id).first()
