from __future__ import annotations

from typing import TYPE_CHECKING

from shared_apps.directory.models import PublishedService

if TYPE_CHECKING:
    from tenants.models import Commune


def publish_service(
    *, commune: Commune, service_id: int, kind: str, name: str, description: str, is_active: bool
) -> PublishedService:
    """Called by the commune's catalogue whenever a service is created or changed."""
    listing, _ = PublishedService.objects.update_or_create(
        commune=commune,
        service_id=service_id,
        defaults={"kind": kind, "name": name, "description": description, "is_active": is_active},
    )
    return listing


def unpublish_service(*, commune: Commune, service_id: int) -> None:
    PublishedService.objects.filter(commune=commune, service_id=service_id).delete()
