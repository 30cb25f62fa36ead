"""The staff's landing page in their commune: the day's figures, each linking to its list."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenant_apps.backoffice.dashboard import dashboard, record_dashboard_view
from tenants.models import Role
from tenants.permissions import staff_required, staff_role


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """Gestion's home (agents and managers): today's and tomorrow's numbers, what waits."""
    figures = dashboard(commune=request.tenant)
    record_dashboard_view(viewed_by=request.user, commune=request.tenant, figures=figures)
    return render(
        request,
        "backoffice/home.html",
        {"dash": figures, "is_manager": staff_role(request) == Role.MANAGER},
    )
