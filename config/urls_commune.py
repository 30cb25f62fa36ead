"""URLs of one commune, mounted under /c/<slug>/ (the middleware has set its schema)."""

from django.urls import include, path

urlpatterns = [
    path("", include("tenant_apps.catalog.urls")),
    path("", include("tenant_apps.enrollments.urls")),
    path("", include("tenant_apps.backoffice.urls")),
    path("", include("tenant_apps.bookings.urls")),
    path("", include("tenant_apps.billing.urls")),
    path("api/v1/", include("tenant_apps.catalog.api_urls")),
    path("api/v1/", include("tenant_apps.enrollments.api_urls")),
    path("api/v1/", include("tenant_apps.backoffice.api_urls")),
    path("api/v1/", include("tenant_apps.bookings.api_urls")),
    path("api/v1/", include("tenant_apps.billing.api_urls")),
]
