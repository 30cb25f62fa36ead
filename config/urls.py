from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from shared_apps.common import views as common_views
from tenant_apps.bookings import views as bookings_views
from tenants import views as tenants_views

admin.site.site_header = "Marelle — administration de la plateforme"
admin.site.site_title = "Marelle"

urlpatterns = [
    path("", tenants_views.home, name="home"),
    path("healthz", common_views.healthz, name="healthz"),
    path("readyz", common_views.readyz, name="readyz"),
    path("metrics", common_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("operateur/taches/", include("shared_apps.jobs.urls")),
    path("operateur/", include("console.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # An HTML page: OPTIONS would render DRF's metadata with its template (a 500).
        # The split view serves its start-up script as a file: no inline script (CSP).
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", http_method_names=["get", "head"]
        ),
        name="api-docs",
    ),
    path("api/v1/", include("config.api_urls")),
    path("compte/", include("shared_apps.accounts.urls")),
    path("famille/", include("shared_apps.families.urls")),
    path("services/", include("shared_apps.directory.urls")),
    path("porte-monnaie/", include("shared_apps.wallet.urls")),
    path("reservations/", bookings_views.everywhere, name="reservations-everywhere"),
    path("calendrier/<str:token>.ics", bookings_views.calendar_feed, name="calendar-feed"),
    path("mon-espace/", bookings_views.parent_home, name="parent-home"),
    path("porte-monnaie/", include("shared_apps.payments.urls")),
    path("c/<slug:commune_slug>/", include("config.urls_commune")),
]

handler404 = "shared_apps.common.views.not_found"
handler403 = "shared_apps.common.views.permission_denied"
handler500 = "shared_apps.common.views.server_error"
