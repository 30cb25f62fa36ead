from django.urls import path

from tenant_apps.backoffice.views import cash, counter

urlpatterns = [
    path("gestion/versements/", counter.counter_credit, name="backoffice-counter-credit"),
    path("gestion/regie/", cash.cash_journal, name="backoffice-cash-journal"),
    path("gestion/regie/cloture/", cash.close_day, name="backoffice-cash-close"),
    path("gestion/regie/recus/<int:receipt_id>/", cash.receipt_pdf, name="backoffice-cash-receipt"),
    path("gestion/regie/exports/", cash.cash_exports, name="backoffice-cash-exports"),
]
