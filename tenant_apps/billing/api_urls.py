from django.urls import path

from tenant_apps.billing import api, staff_api

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
    path("staff/invoices", staff_api.StaffInvoicesView.as_view(), name="api-staff-invoices"),
    path(
        "staff/invoices/<int:invoice_id>/credit-notes",
        staff_api.StaffCreditNotesView.as_view(),
        name="api-staff-credit-notes",
    ),
]
