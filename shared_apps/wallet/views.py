"""The "Porte-monnaie numérique" page (steps 6–7 of the guide)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shared_apps.families.selectors import family_id_of
from shared_apps.wallet.selectors import history_of, pockets_of, with_pocket_labels


@login_required
def home(request: HttpRequest) -> HttpResponse:
    family_id = family_id_of(request.user)
    pockets = pockets_of(family_id)
    page = Paginator(history_of(family_id), 25).get_page(request.GET.get("page"))
    page.object_list = with_pocket_labels(page.object_list)
    return render(
        request,
        "wallet/home.html",
        {
            "pockets": pockets,
            "total_cents": sum(p.balance_cents for p in pockets),
            "history": page,
            "card_top_up": _card_payments_available(),
        },
    )


def _card_payments_available() -> bool:
    """Same test as the top-up page: without the payment provider's keys (the demo), no
    "Recharger mon crédit" button leading to "paiement par carte indisponible"."""
    from shared_apps.payments.services import card_payments_available

    return card_payments_available()
