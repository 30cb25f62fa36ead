"""Reads of the console: the communes list from the health rows (never the communes' schemas)."""

from __future__ import annotations

import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from shared_apps.audit.models import AuditEntry
from shared_apps.jobs.selectors import failures_per_commune
from tenants.models import Commune

PAGE_SIZE = 50


def communes_list(query: str = "") -> QuerySet[Commune]:
    """Every commune (open, suspended or closed) with its health row, by name; `query` matches
    the name or the slug (contains, any case) or the INSEE code (starts with)."""
    communes = Commune.objects.select_related("health").order_by("name", "pk")
    query = (query or "").strip()[:120]
    if query:
        communes = communes.filter(
            Q(name__icontains=query) | Q(slug__icontains=query) | Q(insee_code__startswith=query)
        )
    return communes


# Failed job runs are counted over this many days (shared_apps.jobs keeps them 180 days).
FAILED_JOBS_DAYS = 7


def communes_page(query: str, page_number: str | None, *, now: datetime.datetime) -> Page:
    """One page of `communes_list` (PAGE_SIZE rows; a bad page number gives the nearest); each
    commune carries `failed_jobs`, its failed scheduled-job runs (shared_apps.jobs) of the last
    FAILED_JOBS_DAYS days, read live (one grouped query on the public schema)."""
    page = Paginator(communes_list(query), PAGE_SIZE).get_page(page_number)
    rows = list(page.object_list)
    failures = failures_per_commune(now - datetime.timedelta(days=FAILED_JOBS_DAYS))
    for commune in rows:
        commune.failed_jobs = failures.get(commune.pk, 0)
    page.object_list = rows
    return page


def operator_actions(commune: Commune, limit: int = 20) -> list[AuditEntry]:
    """The latest operators' actions on a commune, newest first."""
    return list(
        AuditEntry.objects.filter(commune=commune, action__startswith="operator.")
        .select_related("actor")
        .order_by("-created_at", "-pk")[:limit]
    )
