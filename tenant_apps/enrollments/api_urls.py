from django.urls import path

from tenant_apps.enrollments import api

urlpatterns = [
    path("access-requests", api.AccessRequestsView.as_view(), name="api-access-requests"),
    path(
        "access-requests/<int:request_id>",
        api.AccessRequestDetailView.as_view(),
        name="api-access-request",
    ),
    path(
        "access-requests/<int:request_id>/documents",
        api.AccessRequestDocumentsView.as_view(),
        name="api-access-request-documents",
    ),
    path("staff/access-requests", api.StaffQueueView.as_view(), name="api-staff-queue"),
    path(
        "staff/access-requests/<int:request_id>",
        api.StaffRequestView.as_view(),
        name="api-staff-request",
    ),
    path(
        "staff/access-requests/<int:request_id>/decision",
        api.StaffDecisionView.as_view(),
        name="api-staff-decision",
    ),
    path(
        "staff/documents/<int:document_id>",
        api.StaffDocumentView.as_view(),
        name="api-staff-document",
    ),
]
