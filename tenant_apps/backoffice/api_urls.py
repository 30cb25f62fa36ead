from django.urls import path

from tenant_apps.backoffice import api

urlpatterns = [
    path("staff/wallet-credits", api.WalletCreditsView.as_view(), name="api-staff-wallet-credits"),
    path("staff/families", api.StaffFamiliesView.as_view(), name="api-staff-families"),
    path(
        "staff/families/<int:family_id>",
        api.StaffFamilyView.as_view(),
        name="api-staff-family",
    ),
]
