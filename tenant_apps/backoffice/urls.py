from django.urls import path

from tenant_apps.backoffice.views import attendance, counter

urlpatterns = [
    path("gestion/versements/", counter.counter_credit, name="backoffice-counter-credit"),
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
]
