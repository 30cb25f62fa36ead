from django.urls import path

from tenant_apps.enrollments import views

urlpatterns = [
    path("services/<int:service_id>/demande/", views.new_request, name="enrollments-request-new"),
    path("demandes/", views.my_requests, name="enrollments-my-requests"),
    path("demandes/<int:request_id>/", views.request_detail, name="enrollments-request-detail"),
    path("documents/<int:document_id>/", views.family_document, name="enrollments-document"),
    path("gestion/demandes/", views.staff_queue, name="enrollments-staff-queue"),
    path(
        "gestion/demandes/<int:request_id>/", views.staff_request, name="enrollments-staff-request"
    ),
    path(
        "gestion/documents/<int:document_id>/",
        views.staff_document,
        name="enrollments-staff-document",
    ),
]
