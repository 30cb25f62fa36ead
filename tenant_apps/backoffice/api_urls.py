from django.urls import path

from tenant_apps.backoffice import api

urlpatterns = [
    path("staff/wallet-credits", api.WalletCreditsView.as_view(), name="api-staff-wallet-credits"),
    path("staff/cash-journal", api.CashJournalView.as_view(), name="api-staff-cash-journal"),
    path("staff/cash-closings", api.CashClosingsView.as_view(), name="api-staff-cash-closings"),
    path(
        "staff/receipts/<int:receipt_id>",
        api.ReceiptPdfView.as_view(),
        name="api-staff-receipt",
    ),
]
