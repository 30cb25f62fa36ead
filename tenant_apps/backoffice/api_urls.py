from django.urls import path

from tenant_apps.backoffice import api

urlpatterns = [
    path("staff/dashboard", api.DashboardView.as_view(), name="api-staff-dashboard"),
    path("staff/wallet-credits", api.WalletCreditsView.as_view(), name="api-staff-wallet-credits"),
]
