from django.urls import path

from tenant_apps.billing import api

urlpatterns = [
    path("mandates", api.MandatesView.as_view(), name="api-mandates"),
    path("invoices", api.InvoicesView.as_view(), name="api-invoices"),
    path("invoices/<int:invoice_id>", api.InvoiceView.as_view(), name="api-invoice"),
    path("mandates/<int:mandate_id>/sync", api.MandateSyncView.as_view(), name="api-mandate-sync"),
    path(
        "mandates/<int:mandate_id>/revoke",
        api.MandateRevokeView.as_view(),
        name="api-mandate-revoke",
    ),
]
