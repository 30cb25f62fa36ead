"""URLs of one commune, mounted under /c/<slug>/ (the middleware has set its schema)."""

from django.urls import path

from tenant_apps.catalog import views as catalog_views

urlpatterns = [
    path("", catalog_views.commune_home, name="commune-home"),
]
