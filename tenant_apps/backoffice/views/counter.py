"""Staff pages about money: counter payments ("versements en mairie"), each with its receipt."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from shared_apps.common.validation import parse_id
from tenant_apps.backoffice import selectors, services
from tenant_apps.backoffice.forms import CounterCreditForm
from tenant_apps.catalog.models import Service
from tenants.permissions import staff_required


@staff_required
def counter_credit(request: HttpRequest) -> HttpResponse:
    """The counter payment form; after saving, the same page shows the receipt to print
    (?recu=<id>, a receipt of this commune only) and an empty form for the next family."""
    form = CounterCreditForm(
        request.POST or None,
        initial={"family_id": request.GET.get("famille")},
        families=selectors.known_families(),
        services=Service.objects.filter(is_active=True).order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.record_counter_credit(
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
            query = f"?recu={result.receipt.pk}" + ("" if result.created else "&deja=1")
            return redirect(request.path + query)
    receipt_id = parse_id(request.GET.get("recu", "")) if request.method == "GET" else None
    receipt = selectors.receipt_for_staff(receipt_id) if receipt_id else None
    if receipt is not None:  # a family's name and payment, as its PDF shows: audited the same
        services.record_cash_view(
            viewed_by=request.user, commune=request.tenant, what="receipt", target=receipt.pk
        )
    return render(
        request,
        "backoffice_money/counter_credit.html",
        {
            "form": form,
            "receipt": receipt,
            "already": bool(request.GET.get("deja")),
            "closing": selectors.closing_for_agent(timezone.localdate(), request.user.pk),
            "receipt_url": reverse(
                "backoffice-cash-receipt",
                kwargs={"commune_slug": request.tenant.slug, "receipt_id": receipt.pk},
            )
            if receipt
            else None,
        },
    )
