"""Commune pages of the catalogue: the families' home page of a commune, and the managers'
back-office screens to configure services, products (and their booking rules), supporting
documents and closures.

Views stay thin: a form reads the input, one service function applies the rules, and a domain
error is shown on the form in French.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from shared_apps.directory.selectors import access_request_url
from tenant_apps.catalog import selectors, services
from tenant_apps.catalog.forms import (
    BookingRulesForm,
    ClosureForm,
    DocumentTypeForm,
    ProductForm,
    ServiceForm,
    booking_rules_changes,
    closure_fields,
    document_type_changes,
    product_changes,
    service_changes,
)
from tenant_apps.catalog.models import DocumentType, Product, Service
from tenants.models import Role
from tenants.permissions import staff_required, staff_role
from tenants.urls import commune_reverse

manager_required = staff_required(manager=True)


# --- Families -------------------------------------------------------------------------------


def commune_home(request: HttpRequest) -> HttpResponse:
    """The commune's page: its active services, their products and prices, "Demander l’accès"."""
    offered = list(selectors.offered_services())
    for service in offered:
        service.request_url = access_request_url(request.tenant.slug, service.pk)
    return render(
        request,
        "catalog/commune_home.html",
        {"services": offered, "is_staff": staff_role(request) is not None},
    )


# --- Back-office ----------------------------------------------------------------------------


def _render_staff(request: HttpRequest, template: str, context: dict, status: int = 200):
    context = {"is_manager": staff_role(request) == Role.MANAGER, **context}
    return render(request, template, context, status=status)


def _service_or_404(service_id: int) -> Service:
    service = selectors.service_by_id(service_id)
    if service is None:
        raise Http404("Service introuvable.")
    return service


def _service_url(request: HttpRequest, service: Service) -> str:
    return commune_reverse(request.tenant, "catalog-service", args=[service.pk])


@manager_required
def service_list(request: HttpRequest) -> HttpResponse:
    return _render_staff(
        request, "catalog/service_list.html", {"services": selectors.services_for_managers()}
    )


@manager_required
def service_create(request: HttpRequest) -> HttpResponse:
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.save_service(
                commune=request.tenant,
                changes=service_changes(form.cleaned_data, partial=False),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"Le service « {service.name} » est créé. Ajoutez-lui ses produits et les pièces "
                "à fournir.",
            )
            return redirect(_service_url(request, service))
    return _render_staff(request, "catalog/service_form.html", {"form": form})


@manager_required
def service_detail(request: HttpRequest, service_id: int) -> HttpResponse:
    """A service's products and documents, and the form to change the service itself."""
    service = selectors.service_with_details(service_id)
    if service is None:
        raise Http404("Service introuvable.")
    title = service.name  # the form may try another name; the page keeps the saved one
    initial = {
        "kind": service.kind,
        "name": service.name,
        "description": service.description,
        "payment_methods": service.payment_methods,
        "low_balance_threshold_cents": service.low_balance_threshold_cents,
        "is_active": service.is_active,
    }
    form = ServiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_service(
                commune=request.tenant,
                service=service,
                changes=service_changes(form.cleaned_data, partial=True),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Le service est enregistré.")
            return redirect(_service_url(request, service))
    for product in service.product_list:
        product.rules = selectors.booking_rules_summary(product)
    return _render_staff(
        request, "catalog/service_detail.html", {"service": service, "title": title, "form": form}
    )


def _product_page(request: HttpRequest, service: Service, product: Product | None) -> HttpResponse:
    initial = {"is_active": True}
    if product is not None:
        initial = {
            "name": product.name,
            "description": product.description,
            "price_cents": product.price_cents,
            "variants": "\n".join(variant.name for variant in product.variants.all()),
            "is_active": product.is_active,
        }
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_product(
                commune=request.tenant,
                service=service,
                product=product,
                changes=product_changes(form.cleaned_data, product=product),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Le produit « {saved.name} » est enregistré.")
            return redirect(_service_url(request, service))
    return _render_staff(
        request,
        "catalog/product_form.html",
        {"service": service, "product": product, "form": form},
    )


@manager_required
def product_create(request: HttpRequest, service_id: int) -> HttpResponse:
    return _product_page(request, _service_or_404(service_id), None)


def _product_or_404(service: Service, product_id: int) -> Product:
    product = selectors.product_of(service, product_id)
    if product is None:
        raise Http404("Produit introuvable.")
    return product


@manager_required
def product_edit(request: HttpRequest, service_id: int, product_id: int) -> HttpResponse:
    service = _service_or_404(service_id)
    return _product_page(request, service, _product_or_404(service, product_id))


@manager_required
def product_rules(request: HttpRequest, service_id: int, product_id: int) -> HttpResponse:
    """ "Règles de réservation" of one product: days, deadlines, late cancellation, places,
    prices by quotient familial, sibling reduction."""
    service = _service_or_404(service_id)
    product = _product_or_404(service, product_id)
    form = BookingRulesForm(request.POST or None, initial=BookingRulesForm.initial_for(product))
    if request.method == "POST" and form.is_valid():
        try:
            services.save_booking_rules(
                commune=request.tenant,
                product=product,
                changes=booking_rules_changes(form.booking_rules(), product=product),
            )
        except DomainError as exc:
            form.add_service_error(exc)  # nothing was saved: the summary shows the saved rules
        else:
            messages.success(
                request, f"Les règles de réservation de « {product.name} » sont enregistrées."
            )
            return redirect(_service_url(request, service) + f"#produit-{product.pk}")
    return _render_staff(
        request,
        "catalog/product_rules.html",
        {
            "service": service,
            "product": product,
            "form": form,
            "rules": selectors.booking_rules_summary(product),
        },
    )


def _document_type_page(
    request: HttpRequest, service: Service, document_type: DocumentType | None
) -> HttpResponse:
    initial = None
    if document_type is not None:
        initial = {
            "label": document_type.label,
            "help_text": document_type.help_text,
            "required": document_type.required,
            "accepted_formats": document_type.accepted_formats,
        }
    form = DocumentTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_document_type(
                commune=request.tenant,
                service=service,
                document_type=document_type,
                changes=document_type_changes(form.cleaned_data, document_type=document_type),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"La pièce « {saved.label} » est enregistrée.")
            return redirect(_service_url(request, service))
    return _render_staff(
        request,
        "catalog/document_type_form.html",
        {"service": service, "document_type": document_type, "form": form},
    )


@manager_required
def document_type_create(request: HttpRequest, service_id: int) -> HttpResponse:
    return _document_type_page(request, _service_or_404(service_id), None)


def _document_type_or_404(service: Service, document_type_id: int) -> DocumentType:
    document_type = selectors.document_type_of(service, document_type_id)
    if document_type is None:
        raise Http404("Pièce introuvable.")
    return document_type


@manager_required
def document_type_edit(request: HttpRequest, service_id: int, document_type_id: int):
    service = _service_or_404(service_id)
    return _document_type_page(request, service, _document_type_or_404(service, document_type_id))


@manager_required
def document_type_delete(request: HttpRequest, service_id: int, document_type_id: int):
    """GET asks for confirmation; POST deletes, unless families already sent this document."""
    service = _service_or_404(service_id)
    document_type = _document_type_or_404(service, document_type_id)
    error = None
    if request.method == "POST":
        try:
            services.delete_document_type(commune=request.tenant, document_type=document_type)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"La pièce « {document_type.label} » est supprimée.")
            return redirect(_service_url(request, service))
    return _render_staff(
        request,
        "catalog/document_type_delete.html",
        {"service": service, "document_type": document_type, "error": error},
        status=409 if error else 200,
    )


# --- Closures -------------------------------------------------------------------------------


def _closures_url(request: HttpRequest, service: Service) -> str:
    return commune_reverse(request.tenant, "catalog-closures", args=[service.pk])


@manager_required
def closures(request: HttpRequest, service_id: int) -> HttpResponse:
    """A service's days closed to come, and the form to close one more."""
    service = _service_or_404(service_id)
    form = ClosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            day, reason = closure_fields(form.cleaned_data)
            closure = services.add_closure(
                commune=request.tenant, service=service, day=day, reason=reason
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"« {service.name} » sera fermé le {closure.date:%d/%m/%Y}.")
            cancelled = closure.cancelled_reservations
            if cancelled:
                plural = "s" if cancelled > 1 else ""
                messages.warning(
                    request,
                    f"{cancelled} réservation{plural} de ce jour annulée{plural}, sans frais "
                    "pour les familles : payé par porte-monnaie ou par carte, le montant revient "
                    "sur leur porte-monnaie ; par prélèvement, le jour ne sera pas facturé.",
                )
            return redirect(_closures_url(request, service))
    return _render_staff(
        request,
        "catalog/closures.html",
        {"service": service, "closures": selectors.upcoming_closures(service), "form": form},
    )


@manager_required
@require_POST
def closure_delete(request: HttpRequest, service_id: int, closure_id: int) -> HttpResponse:
    service = _service_or_404(service_id)
    closure = selectors.closure_of(service, closure_id)
    if closure is None:
        raise Http404("Fermeture introuvable.")
    try:
        services.delete_closure(commune=request.tenant, closure=closure)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"La fermeture du {closure.date:%d/%m/%Y} est supprimée : le jour est rouvert."
        )
    return redirect(_closures_url(request, service))
