"""Reads of the commune's catalogue (run inside the commune's schema).

Lists prefetch what their pages and endpoints show, so the number of queries does not grow with
the number of services, products or variants.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from tenant_apps.catalog.models import DocumentType, MealVariant, Product, Service

# Ids come from URLs; PostgreSQL refuses a bigint beyond this, so such an id is simply unknown.
_MAX_ID = 2**63 - 1


def _valid_id(value: int) -> bool:
    return 0 < value <= _MAX_ID


def _variants() -> Prefetch:
    # In the order the manager typed them ("Standard, Sans viande, PAI"), not alphabetical.
    return Prefetch("variants", queryset=MealVariant.objects.order_by("pk"))


def _document_types(to_attr: str) -> Prefetch:
    return Prefetch(
        "document_types",
        queryset=DocumentType.objects.order_by("-required", "label", "pk"),
        to_attr=to_attr,
    )


def active_services() -> QuerySet[Service]:
    return Service.objects.filter(is_active=True).order_by("name")


def offered_services() -> QuerySet[Service]:
    """Active services as families see them, with `.offered_products` (active, with their
    variants) and `.document_list` (every document type): four queries in all."""
    products = (
        Product.objects.filter(is_active=True).order_by("name", "pk").prefetch_related(_variants())
    )
    return (
        Service.objects.filter(is_active=True)
        .order_by("name", "pk")
        .prefetch_related(
            Prefetch("products", queryset=products, to_attr="offered_products"),
            _document_types("document_list"),
        )
    )


def services_for_managers() -> QuerySet[Service]:
    """Every service (active first), with `product_count` and `document_count`."""
    return Service.objects.annotate(
        product_count=Count("products", distinct=True),
        document_count=Count("document_types", distinct=True),
    ).order_by("-is_active", "name", "pk")


def service_by_id(service_id: int) -> Service | None:
    if not _valid_id(service_id):
        return None
    return Service.objects.filter(pk=service_id).first()


def service_with_details(service_id: int) -> Service | None:
    """One service with `.product_list` (all, with variants) and `.document_list`."""
    if not _valid_id(service_id):
        return None
    products = Product.objects.order_by("-is_active", "name", "pk").prefetch_related(_variants())
    return (
        Service.objects.filter(pk=service_id)
        .prefetch_related(
            Prefetch("products", queryset=products, to_attr="product_list"),
            _document_types("document_list"),
        )
        .first()
    )


def product_of(service: Service, product_id: int) -> Product | None:
    if not _valid_id(product_id):
        return None
    return (
        Product.objects.filter(service=service, pk=product_id).prefetch_related(_variants()).first()
    )


def document_type_of(service: Service, document_type_id: int) -> DocumentType | None:
    if not _valid_id(document_type_id):
        return None
    return DocumentType.objects.filter(service=service, pk=document_type_id).first()
