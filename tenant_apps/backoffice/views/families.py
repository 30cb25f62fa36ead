"""Staff pages about families: the search ("Familles"), the family file, and booking on a
family's behalf from it (the "cagnotte", guide step 7).

Staff see only the families that sent this commune a request, and of them only the children
named in those requests; another family id is a 404. Every opening of a file is audited."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from shared_apps.common.money import format_euros
from shared_apps.common.validation import parse_id, parse_int
from tenant_apps.backoffice import selectors, services
from tenant_apps.backoffice.models import Receipt
from tenant_apps.backoffice.on_behalf_forms import FamilyBookingForm
from tenant_apps.bookings.selectors import enrolled_children_choices
from tenant_apps.bookings.services.on_behalf import book_on_behalf
from tenant_apps.catalog.models import MealVariant, Product
from tenants.permissions import staff_required


def page_number(request: HttpRequest) -> int:
    """?page=N, anything else (absent, not a number, below 1) being the first page."""
    number = parse_int(request.GET.get("page"))
    return number if number and number > 0 else 1


@staff_required
def family_list(request: HttpRequest) -> HttpResponse:
    """Search the families known here by guardian name, child name (named here) or e-mail."""
    q = " ".join(selectors.search_terms(request.GET.get("q")))
    paginator = Paginator(selectors.search_families(q), selectors.SEARCH_PAGE_SIZE)
    page = paginator.get_page(page_number(request))
    rows = selectors.family_rows([family.pk for family in page.object_list])
    # The list shows guardians' names and e-mails and children's names: audited, words or not.
    services.record_family_search(
        searched_by=request.user, commune=request.tenant, query=q, found=paginator.count
    )
    return render(request, "backoffice/families.html", {"q": q, "page": page, "rows": rows})


def _file_or_404(request: HttpRequest, family_id: int) -> selectors.FamilyFile:
    file = selectors.family_file(family_id, commune=request.tenant, today=timezone.localdate())
    if file is None:
        raise Http404
    return file


@staff_required
def family_detail(request: HttpRequest, family_id: int) -> HttpResponse:
    """The family file: guardians, children named here, requests and documents, bookings,
    wallet here, attendance, consent for booking on its behalf. Audited ("family.view")."""
    file = _file_or_404(request, family_id)
    services.record_family_view(
        viewed_by=request.user, commune=request.tenant, family_id=file.family_id
    )
    receipts = Receipt.objects.filter(family_id=file.family_id).order_by("-year", "-sequence")
    return render(
        request,
        "backoffice/family.html",
        {"file": file, "receipts": list(receipts[: selectors.FILE_ROWS])},
    )


def booking_choices(file: selectors.FamilyFile | None):
    """(children, products), variants for the booking form: from the family file, its children
    named here and enrolled, and the active products of their services; without a file (the
    page reached from the menu), every enrolled child of the commune."""
    if file is None:
        children, products = enrolled_children_choices()
        product_rows = list(
            Product.objects.filter(is_active=True, service__is_active=True).select_related(
                "service"
            )
        )
    else:
        children = [
            (child.pk, f"{child.first_name} {child.last_name} ({child.school_class or 'classe ?'})")
            for child in file.children
            if file.enrolled.get(child.pk)
        ]
        service_ids = {s.pk for services_ in file.enrolled.values() for s in services_}
        product_rows = list(
            Product.objects.filter(
                is_active=True, service__is_active=True, service_id__in=service_ids
            )
            .select_related("service")
            .order_by("service__name", "name")
        )
        products = [(p.pk, f"{p.service.name} — {p.name}") for p in product_rows]
    labels = {p.pk: f"{p.service.name} — {p.name}" for p in product_rows}
    grouped: dict[int, list[tuple[int, str]]] = {}
    for variant in MealVariant.objects.filter(product_id__in=list(labels)).order_by("pk"):
        grouped.setdefault(variant.product_id, []).append((variant.pk, variant.name))
    variants = [(labels[pid], options) for pid, options in grouped.items()]
    return (children, products), variants


def book_page(request: HttpRequest, file: selectors.FamilyFile | None) -> HttpResponse:
    """GET: the form; POST: book through services.on_behalf.book_on_behalf and go back to the
    family's file (or the same page), the amount paid said."""
    choices, variants = booking_choices(file)
    form = FamilyBookingForm(
        request.POST or None,
        choices=choices,
        variants=variants,
        standing_consent=bool(file and file.consent_at),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = book_on_behalf(
                commune=request.tenant,
                staff_user=request.user,
                child_id=data["child_id"],
                product_id=data["product_id"],
                variant_id=data["variant_id"] or None,
                dates=data["dates"],
                consent_note=data["consent_note"],
                family_id=file.family_id if file else None,
            )
        except DomainError as exc:
            if "dates" in exc.fields:
                # The API lists the days at fault there; the agent needs the sentence saying
                # why ("Jour fermé — vacances scolaires : lundi 21/12."), not the bare dates.
                form.add_error("dates", exc.message)
            else:
                add_domain_error(form, exc)
        else:
            messages.success(
                request,
                "Réservé et payé avec le porte-monnaie de la famille : "
                f"{format_euros(result.order.amount_cents)}. La famille est prévenue par e-mail.",
            )
            if file is None:
                return redirect(request.path)
            return redirect(
                reverse(
                    "backoffice-family",
                    kwargs={"commune_slug": request.tenant.slug, "family_id": file.family_id},
                )
                + "#reservations"
            )
    return render(
        request,
        "backoffice/family_book.html",
        {"form": form, "file": file, "has_variants": bool(variants)},
    )


@staff_required
def family_book(request: HttpRequest, family_id: int) -> HttpResponse:
    """Book on behalf of this family, from its file (the family pre-selected)."""
    file = _file_or_404(request, family_id)
    if request.method == "GET":
        services.record_family_view(
            viewed_by=request.user,
            commune=request.tenant,
            family_id=file.family_id,
            what="booking_form",
        )
    return book_page(request, file)


@staff_required
def book_any_family(request: HttpRequest) -> HttpResponse:
    """The former "Réserver pour une famille" page (gestion/reserver-pour/): every enrolled
    child of the commune; ?famille=<id> goes to that family's booking form."""
    # An id (0 or more): a negative number has no address to go to (it was a 500).
    family_id = parse_id(request.GET.get("famille"))
    if family_id is not None:
        return redirect(
            "backoffice-family-book", commune_slug=request.tenant.slug, family_id=family_id
        )
    return book_page(request, None)
