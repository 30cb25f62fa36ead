"""Reads of access requests for families and for staff (constant query counts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from shared_apps.common.validation import parse_id
from shared_apps.families.models import Guardian
from shared_apps.families.selectors import communes_of_family, family_id_of
from tenant_apps.enrollments.models import (
    AccessRequest,
    AccessRequestChild,
    Document,
    FamilyProfile,
    RequestStatus,
)

if TYPE_CHECKING:
    from tenants.models import Commune


def _with_details(queryset: QuerySet[AccessRequest]) -> QuerySet[AccessRequest]:
    # Children and users live in the public schema, reachable through the search path.
    return queryset.select_related(
        "service", "submitted_by", "info_document_type"
    ).prefetch_related(
        Prefetch(
            "request_children",
            queryset=AccessRequestChild.objects.select_related("child").order_by(
                "child__birth_date"
            ),
        ),
        Prefetch(
            "documents",
            queryset=Document.objects.filter(replaced_at__isnull=True).select_related(
                "document_type"
            ),
            to_attr="current_documents",
        ),
    )


def requests_of_family(user: User) -> QuerySet[AccessRequest]:
    family_id = family_id_of(user)
    if family_id is None:
        return AccessRequest.objects.none()
    return _with_details(
        AccessRequest.objects.filter(family_id=family_id).order_by("-created_at", "-pk")
    )


def request_of_family(user: User, request_id: int) -> AccessRequest | None:
    if parse_id(request_id) is None:
        return None
    return requests_of_family(user).filter(pk=request_id).first()


def staff_queue(status: str | None = None) -> QuerySet[AccessRequest]:
    """The review queue, oldest first; all requests when status is None."""
    queryset = AccessRequest.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    return _with_details(queryset.order_by("created_at", "pk"))


def staff_request(request_id: int) -> AccessRequest | None:
    if parse_id(request_id) is None:
        return None
    return _with_details(AccessRequest.objects.filter(pk=request_id)).first()


def guardians_for(access_request: AccessRequest) -> list[Guardian]:
    """The family's guardians: what this commune needs to reach them, nothing more."""
    return list(
        Guardian.objects.filter(family_id=access_request.family_id)
        .select_related("user")
        .only(
            "user__first_name",
            "user__last_name",
            "user__email",
            "user__phone",
            "user__address",
            "family_id",
        )
    )


def document_for_family(user: User, document_id: int) -> Document | None:
    family_id = family_id_of(user)
    if parse_id(document_id) is None or family_id is None:
        return None
    return (
        Document.objects.select_related("document_type", "access_request")
        .filter(pk=document_id, access_request__family_id=family_id)
        .first()
    )


def document_for_staff(document_id: int) -> Document | None:
    if parse_id(document_id) is None:
        return None
    return (
        Document.objects.select_related("document_type", "access_request")
        .filter(pk=document_id)
        .first()
    )


def status_choices() -> list[tuple[str, str]]:
    return list(RequestStatus.choices)


def family_profile(family_id: int) -> FamilyProfile | None:
    return FamilyProfile.objects.filter(family_id=family_id).first()


def requests_everywhere(user: User) -> list[tuple[Commune, list[AccessRequest]]]:
    """[(commune, [request, …]), …] for every commune of the user's family, newest request
    first, each with its `service`: one query per commune (after the family and its communes).
    Named in settings.FAMILY_ACCESS_REQUESTS_HOOK: "Mes services" (public) calls it without
    importing it."""
    family_id = family_id_of(user)
    result = []
    for commune in communes_of_family(family_id):
        with tenant_context(commune):
            requests = list(
                AccessRequest.objects.filter(family_id=family_id)  # type: ignore[misc]
                .select_related("service")
                .order_by("-created_at", "-pk")
            )
        result.append((commune, requests))
    return result


def requests_in_progress(user: User) -> list[tuple[Commune, AccessRequest]]:
    """The family's requests still awaiting the commune or the parent ("En attente",
    "Informations demandées"), every commune, oldest first."""
    waiting = {RequestStatus.SUBMITTED, RequestStatus.INFO_REQUESTED}
    return [
        (commune, access_request)
        for commune, requests in requests_everywhere(user)
        for access_request in reversed(requests)
        if access_request.status in waiting
    ]


# How a parent reads a request's state ("En attente" rather than the staff's "Envoyée").
PARENT_STATE_LABELS = {
    RequestStatus.SUBMITTED: "En attente",
    RequestStatus.ACCEPTED: "Acceptée",
    RequestStatus.REJECTED: "Refusée",
    RequestStatus.INFO_REQUESTED: "Informations demandées",
}


def parent_state_label(status: str) -> str:
    return PARENT_STATE_LABELS.get(status, status)  # type: ignore[call-overload]


def request_states_everywhere(user: User) -> dict[tuple[int, int], tuple[str, str]]:
    """{(commune id, service id): (status, French state)} of the family's latest request to
    each service, every commune: what "Mes services" shows beside each service."""
    states: dict[tuple[int, int], tuple[str, str]] = {}
    for commune, requests in requests_everywhere(user):
        for access_request in requests:  # newest first: the first one per service wins
            states.setdefault(
                (commune.pk, access_request.service_id),
                (access_request.status, parent_state_label(access_request.status)),
            )
    return states
