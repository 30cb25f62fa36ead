"""Commune catalogue API, under /c/<slug>/api/v1/."""

from django.urls import path

from tenant_apps.catalog import api

urlpatterns = [
    path("services", api.ServicesView.as_view(), name="catalog-api-services"),
]
