from django.urls import path

from tenant_apps.backoffice.api import cash, counter, dashboard, families, headcounts

urlpatterns = [
    path("staff/dashboard", dashboard.DashboardView.as_view(), name="api-staff-dashboard"),
    path(
        "staff/wallet-credits", counter.WalletCreditsView.as_view(), name="api-staff-wallet-credits"
    ),
    path("staff/cash-journal", cash.CashJournalView.as_view(), name="api-staff-cash-journal"),
    path("staff/cash-closings", cash.CashClosingsView.as_view(), name="api-staff-cash-closings"),
    path(
        "staff/receipts/<int:receipt_id>", cash.ReceiptPdfView.as_view(), name="api-staff-receipt"
    ),
    path("staff/headcount", headcounts.HeadcountView.as_view(), name="api-staff-headcount"),
    path("staff/families", families.StaffFamiliesView.as_view(), name="api-staff-families"),
    path(
        "staff/families/<int:family_id>",
        families.StaffFamilyView.as_view(),
        name="api-staff-family",
    ),
]
