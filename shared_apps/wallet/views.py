"""The "Porte-monnaie numérique" page (steps 6–7 of the guide)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from shared_apps.common.errors import DomainError
from shared_apps.common.exports import pdf_response
from shared_apps.common.validation import date_param
from shared_apps.families.selectors import family_id_of
from shared_apps.wallet import statements
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


@login_required
def statement_page(request: HttpRequest) -> HttpResponse:
    """ "Relevé de compte": the form (a period, the year of an attestation); with `du` and `au`,
    the family's statement for that period as a PDF. Bad dates: the form again with the error
    (400), nothing else."""
    family_id = family_id_of(request.user)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    if "du" in request.GET or "au" in request.GET:
        try:
            start = date_param(request.GET, "du")
            end = date_param(request.GET, "au")
            assert start is not None and end is not None
            context = statements.statement(family_id, start, end)
        except DomainError as exc:
            errors = exc.fields or {"du": [exc.message]}
        else:
            context.update(family_name=_family_name(request), generated_at=timezone.now())
            return pdf_response(
                f"releve-{start:%Y%m%d}-{end:%Y%m%d}.pdf", "wallet/statement_pdf.html", context
            )
    years = list(range(today.year, today.year - 4, -1))
    return render(
        request,
        "wallet/statement.html",
        {
            "errors": errors,
            "values": {
                "du": request.GET.get("du", f"{today.replace(month=1, day=1):%Y-%m-%d}"),
                "au": request.GET.get("au", f"{today:%Y-%m-%d}"),
            },
            "years": years,
        },
        status=400 if errors else 200,
    )


@login_required
def childcare_attestation(request: HttpRequest, year: int) -> HttpResponse:
    """The yearly "attestation de frais de garde" (children under 6 on 1 January) as a PDF."""
    try:
        context = statements.childcare_attestation(family_id_of(request.user), year)
    except DomainError as exc:
        raise Http404 from exc
    context.update(family_name=_family_name(request), generated_at=timezone.now())
    return pdf_response(
        f"attestation-frais-de-garde-{year}.pdf", "wallet/attestation_pdf.html", context
    )


def _family_name(request: HttpRequest) -> str:
    user = request.user
    return user.get_full_name() or user.email  # type: ignore[union-attr]
