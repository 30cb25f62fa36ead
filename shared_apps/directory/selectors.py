"""Reads of the platform directory: which communes offer which services (public schema)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from shared_apps.common.french import de
from shared_apps.directory.models import PublishedService
from tenants.models import Commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User


def communes_with_services(*, search: str = "") -> QuerySet[Commune]:
    """Active communes, each with `.listed_services` (active ones): two queries in all.

    `search` keeps the communes whose name contains it (case-insensitive).
    """
    communes = Commune.objects.filter(is_active=True)
    search = (search or "").strip()[:120]
    if search:
        communes = communes.filter(name__icontains=search)
    return communes.order_by("name", "pk").prefetch_related(
        Prefetch(
            "published_services",
            queryset=PublishedService.objects.filter(is_active=True).order_by("name", "pk"),
            to_attr="listed_services",
        )
    )


def published_service(commune: Commune, service_id: int) -> PublishedService | None:
    return PublishedService.objects.filter(commune=commune, service_id=service_id).first()


def access_request_url(commune_slug: str, service_id: int) -> str:
    """Where a family asks a commune for access to one of its services."""
    try:
        return reverse(
            "enrollments-request-new",
            kwargs={"commune_slug": commune_slug, "service_id": service_id},
        )
    except NoReverseMatch:  # the access-request pages are not installed
        return f"/c/{commune_slug}/services/{service_id}/demande/"


def service_label(service_name: str, commune_name: str) -> str:
    """How the guide names a service across communes: "Garderie de Baneins"."""
    return f"{service_name} {de(commune_name)}"


def request_states_of(user: User | AnonymousUser) -> dict[tuple[int, int], tuple[str, str]]:
    """{(commune id, service id): (status, French state)} of the user's family's latest access
    request to each service ("En attente", "Acceptée", "Refusée", "Informations demandées"), from
    the communes' own schemas through settings.FAMILY_ACCESS_REQUESTS_HOOK (public code never
    imports commune apps). Empty when signed out."""
    if not user.is_authenticated:
        return {}
    return import_string(settings.FAMILY_ACCESS_REQUESTS_HOOK)(user)
