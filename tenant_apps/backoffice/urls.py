from django.urls import path

from tenant_apps.backoffice.views import counter, headcounts

urlpatterns = [
    path("gestion/versements/", counter.counter_credit, name="backoffice-counter-credit"),
    path("gestion/effectifs/", headcounts.headcount, name="backoffice-headcount"),
    path(
        "gestion/effectifs/imprimer/",
        headcounts.headcount_print,
        name="backoffice-headcount-print",
    ),
    path(
        "gestion/effectifs/effectifs.pdf",
        headcounts.headcount_export,
        {"fmt": "pdf"},
        name="backoffice-headcount-pdf",
    ),
    path(
        "gestion/effectifs/effectifs.xlsx",
        headcounts.headcount_export,
        {"fmt": "xlsx"},
        name="backoffice-headcount-xlsx",
    ),
    path(
        "gestion/effectifs/effectifs.csv",
        headcounts.headcount_export,
        {"fmt": "csv"},
        name="backoffice-headcount-csv",
    ),
    path("gestion/effectifs/previsions/", headcounts.forecast, name="backoffice-forecast"),
    path(
        "gestion/effectifs/previsions.xlsx",
        headcounts.forecast_export,
        {"fmt": "xlsx"},
        name="backoffice-forecast-xlsx",
    ),
    path(
        "gestion/effectifs/previsions.csv",
        headcounts.forecast_export,
        {"fmt": "csv"},
        name="backoffice-forecast-csv",
    ),
]
