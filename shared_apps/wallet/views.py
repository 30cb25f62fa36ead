"""The "Porte-monnaie numérique" page (steps 6–7 of the guide)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shared_apps.families.selectors import family_id_of
from shared_apps.wallet.selectors import history_of, pockets_of


@login_required
def home(request: HttpRequest) -> HttpResponse:
    family_id = family_id_of(request.user)
    pockets = pockets_of(family_id)
    page = Paginator(history_of(family_id), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "wallet/home.html",
        {
            "pockets": pockets,
            "total_cents": sum(p.balance_cents for p in pockets),
            "history": page,
        },
    )
