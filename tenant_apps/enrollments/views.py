"""Access-request pages: the family's side (step 3 of the guide) and the staff review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from shared_apps.families.selectors import children_of
from tenant_apps.catalog.models import Service
from tenant_apps.enrollments import selectors, services
from tenant_apps.enrollments.forms import (
    DOC_PREFIX,
    AccessRequestForm,
    CompleteRequestForm,
    DecisionForm,
    parse_quotient_familial,
)
from tenant_apps.enrollments.models import Document, RequestStatus
from tenants.permissions import staff_required
from tenants.urls import commune_reverse


def _domain_error_to_form(form, exc: DomainError) -> None:
    # Document errors are keyed by document code; the form's fields carry a prefix.
    exc.fields = {
        (DOC_PREFIX + k if DOC_PREFIX + k in form.fields else k): v for k, v in exc.fields.items()
    }
    add_domain_error(form, exc)


@login_required
def new_request(request: HttpRequest, service_id: int) -> HttpResponse:
    service = Service.objects.filter(pk=service_id, is_active=True).first()
    if service is None:
        raise Http404
    document_types = list(service.document_types.all())
    children = list(children_of(request.user))
    form = AccessRequestForm(
        request.POST or None,
        request.FILES or None,
        children=children,
        document_types=document_types,
    )
    if request.method == "POST" and form.is_valid():
        try:
            access_request = services.submit_access_request(
                commune=request.tenant,
                user=request.user,
                service_id=service.pk,
                child_ids=form.cleaned_data["children"],
                files=form.files_by_code(),
            )
        except DomainError as exc:
            _domain_error_to_form(form, exc)
        else:
            messages.success(
                request,
                "Votre demande est envoyée au service. Vous serez alerté par e-mail dès qu’elle "
                "aura été traitée.",
            )
            return redirect(
                commune_reverse(
                    request.tenant, "enrollments-request-detail", args=[access_request.pk]
                )
            )
    return render(
        request,
        "enrollments/new_request.html",
        {"service": service, "form": form, "has_children": bool(children)},
    )


@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "enrollments/my_requests.html",
        {"requests": selectors.requests_of_family(request.user)},
    )


@login_required
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    access_request = selectors.request_of_family(request.user, request_id)
    if access_request is None:
        raise Http404
    form = None
    if access_request.status == RequestStatus.INFO_REQUESTED:
        form = CompleteRequestForm(
            request.POST or None,
            request.FILES or None,
            document_types=list(access_request.service.document_types.all()),
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.complete_access_request(
                    commune=request.tenant,
                    user=request.user,
                    request_id=access_request.pk,
                    files=form.files_by_code(),
                )
            except DomainError as exc:
                _domain_error_to_form(form, exc)
            else:
                messages.success(request, "Document envoyé : votre demande retourne au service.")
                return redirect(request.path)
    return render(
        request, "enrollments/request_detail.html", {"access_request": access_request, "form": form}
    )


def document_response(document: Document) -> FileResponse:
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=False,
        filename=f"{document.document_type.code}.{document.extension}",
    )
    # The type was checked by content at upload; nosniff makes the browser trust only that.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@xframe_options_sameorigin
def family_document(request: HttpRequest, document_id: int) -> HttpResponse:
    document = selectors.document_for_family(request.user, document_id)
    if document is None:
        raise Http404
    return document_response(document)


# --- Staff ------------------------------------------------------------------------------------


@staff_required
def staff_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("statut") or RequestStatus.SUBMITTED
    if status not in {*RequestStatus.values, "tous"}:
        status = RequestStatus.SUBMITTED
    queue = selectors.staff_queue(None if status == "tous" else status)
    return render(
        request,
        "enrollments/staff_queue.html",
        {"requests": queue, "status": status, "statuses": selectors.status_choices()},
    )


@staff_required
def staff_request(request: HttpRequest, request_id: int) -> HttpResponse:
    access_request = selectors.staff_request(request_id)
    if access_request is None:
        raise Http404
    document_types = list(access_request.service.document_types.all())
    if request.method == "POST" and "quotient_familial" in request.POST:
        try:
            services.set_quotient_familial(
                staff_user=request.user,
                commune=request.tenant,
                family_id=access_request.family_id,
                quotient=parse_quotient_familial(request.POST["quotient_familial"].strip()),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Quotient familial enregistré : les prix suivront ce barème.")
        return redirect(request.path)
    form = DecisionForm(request.POST or None, document_types=document_types)
    if request.method == "POST" and form.is_valid():
        try:
            services.decide_access_request(
                staff_user=request.user,
                commune=request.tenant,
                request_id=access_request.pk,
                **form.cleaned_data,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Décision enregistrée ; la famille est prévenue par e-mail.")
            return redirect(commune_reverse(request.tenant, "enrollments-staff-queue"))
    else:
        services.note_staff_access(
            staff_user=request.user,
            commune=request.tenant,
            family_id=access_request.family_id,
            what="access_request",
            target_id=access_request.pk,
        )
    return render(
        request,
        "enrollments/staff_request.html",
        {
            "access_request": access_request,
            "guardians": selectors.guardians_for(access_request),
            "form": form,
            "profile": selectors.family_profile(access_request.family_id),
        },
    )


@staff_required
@xframe_options_sameorigin
def staff_document(request: HttpRequest, document_id: int) -> HttpResponse:
    document = selectors.document_for_staff(document_id)
    if document is None:
        raise Http404
    services.note_staff_access(
        staff_user=request.user,
        commune=request.tenant,
        family_id=document.access_request.family_id,
        what="document",
        target_id=document.pk,
    )
    return document_response(document)
