"""Staff pages about money: counter payments ("versements en mairie")."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from shared_apps.common.money import format_euros
from tenant_apps.backoffice import selectors, services
from tenant_apps.backoffice.forms import CounterCreditForm
from tenant_apps.catalog.models import Service
from tenants.permissions import staff_required


@staff_required
def counter_credit(request: HttpRequest) -> HttpResponse:
    form = CounterCreditForm(
        request.POST or None,
        initial={"family_id": request.GET.get("famille")},
        families=selectors.known_families(),
        services=Service.objects.filter(is_active=True).order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_counter_credit(
                commune=request.tenant,
                staff_user=request.user,
                family_id=data["family_id"],
                service_id=data["service_id"],
                amount_cents=data["amount"],
                method=data["method"],
                reference=data["reference"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Versement de {format_euros(data['amount'])} enregistré.")
            return redirect(request.path)
    return render(request, "backoffice_money/counter_credit.html", {"form": form})
