"""The operators' console: server-rendered pages under /operateur/ (public schema).

Every page and action is for platform operators only (User.is_operator): anonymous visitors
are sent to the login page, anyone else gets 403 before any commune is looked up (so nothing
tells them which communes exist). Actions are POST, CSRF-protected, and audited by the
services they call.
"""

from __future__ import annotations

import datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from console import money, selectors, services
from console.forms import GeneralCreditForm, OpenCommuneForm, PeriodForm, SuspendForm
from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from tenants.models import Commune


def operator_required(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not services.is_operator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _commune(commune_id: int) -> Commune:
    return get_object_or_404(Commune.objects.select_related("health"), pk=commune_id)


def _detail_url(commune: Commune) -> str:
    return reverse("console:commune", args=[commune.pk])


@operator_required
def communes(request: HttpRequest) -> HttpResponse:
    """The communes with their health figures (from the snapshot rows), searchable, paginated."""
    query = request.GET.get("q", "")
    now = timezone.now()
    page = selectors.communes_page(query, request.GET.get("page"), now=now)
    return render(
        request,
        "console/communes.html",
        {
            "page": page,
            "query": query.strip(),
            "now": now,
            "failed_jobs_days": selectors.FAILED_JOBS_DAYS,
        },
    )


@operator_required
def open_commune(request: HttpRequest) -> HttpResponse:
    form = OpenCommuneForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                commune = services.open_commune(operator=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
                field_messages = [m for msgs in exc.fields.values() for m in msgs]
                if exc.fields and exc.message not in field_messages:
                    form.add_error(None, exc.message)  # the whole explanation, above the form
            else:
                messages.success(
                    request,
                    f"La commune {commune.name} est ouverte ; l’invitation est envoyée à "
                    f"{form.cleaned_data['manager_email']}.",
                )
                return redirect(_detail_url(commune))
        return render(request, "console/open.html", {"form": form}, status=400)
    return render(request, "console/open.html", {"form": form})


@operator_required
def commune(request: HttpRequest, commune_id: int) -> HttpResponse:
    found = _commune(commune_id)
    return render(
        request,
        "console/commune.html",
        {
            "c": found,
            "health": getattr(found, "health", None),
            "suspend_form": SuspendForm(),
            "actions": selectors.operator_actions(found),
            "now": timezone.now(),
        },
    )


@require_POST
@operator_required
def suspend(request: HttpRequest, commune_id: int) -> HttpResponse:
    found = _commune(commune_id)
    form = SuspendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Indiquez le motif de la suspension (300 caractères au plus).")
        return redirect(_detail_url(found))
    try:
        services.suspend(operator=request.user, commune=found, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{found.name} est suspendue : elle ne prend plus ni réservation ni paiement."
        )
    return redirect(_detail_url(found))


@require_POST
@operator_required
def resume(request: HttpRequest, commune_id: int) -> HttpResponse:
    found = _commune(commune_id)
    try:
        services.resume(operator=request.user, commune=found)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{found.name} reprend son service.")
    return redirect(_detail_url(found))


@require_POST
@operator_required
def general_credit(request: HttpRequest, commune_id: int) -> HttpResponse:
    found = _commune(commune_id)
    form = GeneralCreditForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez « Accepté » ou « Refusé ».")
        return redirect(_detail_url(found))
    accepted = form.cleaned_data["accepted"]
    services.switch_general_credit(operator=request.user, commune=found, accepted=accepted)
    verb = "accepte" if accepted else "refuse"
    messages.success(request, f"{found.name} {verb} désormais le crédit « tous services ».")
    return redirect(_detail_url(found))


@require_POST
@operator_required
def refresh(request: HttpRequest, commune_id: int) -> HttpResponse:
    found = _commune(commune_id)
    services.refresh_one(operator=request.user, commune=found)
    messages.success(request, f"Les chiffres de {found.name} sont à jour.")
    return redirect(_detail_url(found))


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@operator_required
def money_flows(request: HttpRequest) -> HttpResponse:
    """The pockets' money flows for a period (default: this month), per commune and in all,
    reconciled with the ledger."""
    today = timezone.localdate()
    defaults = {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    form = PeriodForm(request.GET if "start" in request.GET else defaults)
    flows = None
    status = 200
    if form.is_valid():
        start = _aware(form.cleaned_data["start"])
        end = _aware(form.cleaned_data["end"] + datetime.timedelta(days=1))
        flows = money.money_flows(start, end, now=timezone.now())
    else:
        status = 400
    return render(request, "console/money.html", {"form": form, "flows": flows}, status=status)
