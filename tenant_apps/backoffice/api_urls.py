from django.urls import path

from tenant_apps.backoffice import api

urlpatterns = [
    path("staff/wallet-credits", api.WalletCreditsView.as_view(), name="api-staff-wallet-credits"),
    path("staff/headcount", api.HeadcountView.as_view(), name="api-staff-headcount"),
]
