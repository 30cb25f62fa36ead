from django.urls import path

from tenant_apps.backoffice.views import (
    attendance,
    cash,
    counter,
    dashboard,
    families,
    headcounts,
    staff,
)

urlpatterns = [
    path("gestion/", dashboard.home, name="backoffice-home"),
    path("gestion/versements/", counter.counter_credit, name="backoffice-counter-credit"),
    path("gestion/familles/", families.family_list, name="backoffice-families"),
    path("gestion/familles/<int:family_id>/", families.family_detail, name="backoffice-family"),
    path(
        "gestion/familles/<int:family_id>/reserver/",
        families.family_book,
        name="backoffice-family-book",
    ),
    # The former address of "Réserver pour une famille", kept (bookmarks, the guide).
    path("gestion/reserver-pour/", families.book_any_family, name="bookings-on-behalf"),
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
    path("gestion/regie/", cash.cash_journal, name="backoffice-cash-journal"),
    path("gestion/regie/cloture/", cash.close_day, name="backoffice-cash-close"),
    path("gestion/regie/recus/<int:receipt_id>/", cash.receipt_pdf, name="backoffice-cash-receipt"),
    path("gestion/regie/exports/", cash.cash_exports, name="backoffice-cash-exports"),
    path("gestion/pointage/", attendance.attendance, name="backoffice-attendance"),
    path(
        "gestion/pointage/reservations/<int:reservation_id>/certificat/",
        attendance.certificate,
        name="backoffice-attendance-certificate",
    ),
    path(
        "gestion/pointage/certificats/<int:certificate_id>/",
        attendance.certificate_file,
        name="backoffice-attendance-certificate-file",
    ),
    path("gestion/equipe/", staff.team, name="backoffice-staff"),
    path(
        "gestion/equipe/<int:membership_id>/role/",
        staff.change_role,
        name="backoffice-staff-role",
    ),
    path(
        "gestion/equipe/<int:membership_id>/retirer/",
        staff.remove,
        name="backoffice-staff-remove",
    ),
    path(
        "gestion/equipe/invitations/<int:invitation_id>/annuler/",
        staff.cancel_invitation,
        name="backoffice-staff-invitation-cancel",
    ),
    # The invitation link: for someone not yet on the staff, so outside gestion/.
    path("equipe/invitation/<str:token>/", staff.join, name="backoffice-staff-join"),
]
