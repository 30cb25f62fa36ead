from django.urls import path

from tenant_apps.billing import views

urlpatterns = [
    path("prelevement/", views.mandate_home, name="billing-mandate"),
    path("prelevement/nouveau/", views.mandate_start, name="billing-mandate-start"),
    path("prelevement/<int:mandate_id>/iban/", views.mandate_iban, name="billing-mandate-iban"),
    path(
        "prelevement/<int:mandate_id>/retour/", views.mandate_return, name="billing-mandate-return"
    ),
    path("factures/", views.invoices, name="billing-invoices"),
    path("gestion/factures/", views.staff_invoices, name="billing-staff-invoices"),
    path(
        "gestion/factures/<int:invoice_id>/avoir/",
        views.staff_credit_note,
        name="billing-staff-credit-note",
    ),
    path(
        "gestion/avoirs/<int:note_id>/pdf/",
        views.staff_credit_note_pdf,
        name="billing-staff-credit-note-pdf",
    ),
    path("avoirs/<int:note_id>/pdf/", views.credit_note_pdf, name="billing-credit-note-pdf"),
    path("factures/<int:invoice_id>/pdf/", views.invoice_pdf, name="billing-invoice-pdf"),
    path(
        "factures/<int:invoice_id>/porte-monnaie/",
        views.invoice_pay_wallet,
        name="billing-invoice-wallet",
    ),
    path(
        "factures/<int:invoice_id>/carte/", views.invoice_pay_card, name="billing-invoice-pay-card"
    ),
    path(
        "factures/<int:invoice_id>/carte/<int:payment_id>/",
        views.invoice_card,
        name="billing-invoice-card",
    ),
    path(
        "prelevement/<int:mandate_id>/revoquer/",
        views.mandate_revoke,
        name="billing-mandate-revoke",
    ),
]
