"""Commune pages of the catalogue (mounted under /c/<slug>/); the back-office under gestion/."""

from django.urls import path

from tenant_apps.catalog import views

SERVICE = "gestion/services/<int:service_id>/"

urlpatterns = [
    path("", views.commune_home, name="commune-home"),
    path("gestion/services/", views.service_list, name="catalog-services"),
    path("gestion/services/nouveau/", views.service_create, name="catalog-service-new"),
    path(SERVICE, views.service_detail, name="catalog-service"),
    path(SERVICE + "produits/nouveau/", views.product_create, name="catalog-product-new"),
    path(SERVICE + "produits/<int:product_id>/", views.product_edit, name="catalog-product"),
    path(
        SERVICE + "produits/<int:product_id>/regles/",
        views.product_rules,
        name="catalog-product-rules",
    ),
    path(SERVICE + "fermetures/", views.closures, name="catalog-closures"),
    path(
        SERVICE + "fermetures/<int:closure_id>/supprimer/",
        views.closure_delete,
        name="catalog-closure-delete",
    ),
    path(SERVICE + "pieces/nouvelle/", views.document_type_create, name="catalog-document-new"),
    path(
        SERVICE + "pieces/<int:document_type_id>/",
        views.document_type_edit,
        name="catalog-document",
    ),
    path(
        SERVICE + "pieces/<int:document_type_id>/supprimer/",
        views.document_type_delete,
        name="catalog-document-delete",
    ),
]
