"""Pages: "Recharger mon crédit" (amount and pocket), card payment, and the state of a top-up.

The state shown always comes from our database, updated by the provider's webhooks: coming back
from the payment page proves nothing and credits nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from shared_apps.common.links import absolute_url
from shared_apps.common.validation import parse_id
from shared_apps.payments import services
from shared_apps.payments.forms import TopUpForm
from shared_apps.payments.models import Payment, PaymentStatus
from shared_apps.payments.providers import get_provider
from shared_apps.payments.selectors import pocket_label, top_up_of, top_up_targets, top_up_value


def _own_top_up(request: HttpRequest, payment_id: int) -> Payment:
    payment = top_up_of(request.user, payment_id)
    if payment is None:
        raise Http404("Rechargement introuvable.")
    return payment


def _initial_pocket(request: HttpRequest) -> str | None:
    commune, service = request.GET.get("commune", ""), request.GET.get("service", "")
    service_id = parse_id(service) if service.isdigit() else None
    if commune and service_id is not None:
        return top_up_value(commune[:50], service_id)
    return None


@login_required
def top_up(request: HttpRequest) -> HttpResponse:
    """Step 1: how much, and for which pocket."""
    form = TopUpForm(
        request.POST or None,
        targets=top_up_targets(),
        min_cents=settings.WALLET_TOP_UP_MIN_CENTS,
        max_cents=settings.WALLET_TOP_UP_MAX_CENTS,
        initial={"pocket": _initial_pocket(request)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.start_top_up(user=request.user, **form.top_up_kwargs())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return redirect("payments:top-up-pay", payment_id=payment.pk)
    return render(
        request,
        "payments/top_up.html",
        {"form": form, "card_payments_available": get_provider().is_configured()},
    )


@login_required
def pay(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Step 2: the card, in Stripe's Card Element (needs JavaScript)."""
    payment = _own_top_up(request, payment_id)
    config = services.client_config(payment)
    if config is None:
        return redirect("payments:top-up-status", payment_id=payment.pk)
    return_url = absolute_url(reverse("payments:top-up-status", kwargs={"payment_id": payment.pk}))
    return render(
        request,
        "payments/pay.html",
        {
            "payment": payment,
            "pocket_label": pocket_label(payment),
            "config": config,
            "return_url": return_url,
        },
    )


@login_required
def top_up_status(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Where the payment page sends the parent back: the state as our database knows it."""
    payment = _own_top_up(request, payment_id)
    return render(
        request,
        "payments/status.html",
        {
            "payment": payment,
            "pocket_label": pocket_label(payment),
            "statuses": PaymentStatus,
            "retry_query": _retry_query(payment),
        },
    )


def _retry_query(payment: Payment) -> str:
    if payment.commune_id:
        return f"?commune={payment.commune.slug}&service={payment.service_id}"
    return ""
