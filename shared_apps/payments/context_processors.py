"""The header's "Recharger mon crédit" (guide, step 6: "en haut à droite"), on every page."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from shared_apps.payments.services import card_payments_available


def top_up(request: HttpRequest) -> dict:
    """`top_up_url` for a signed-in parent when cards can be taken (a top-up is paid by card:
    without the provider's keys, no button leading to "paiement par carte indisponible"; the
    wallet page says to top up at the town hall). None on staff pages and when signed out. No
    query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or "/gestion/" in request.path:
        return {"top_up_url": None}
    return {"top_up_url": reverse("payments:top-up") if card_payments_available() else None}
