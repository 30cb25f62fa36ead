"""Access-request API: the family's requests, and the staff review queue."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.common.errors import NotFound
from shared_apps.common.parsers import ObjectJSONParser
from tenant_apps.enrollments import selectors, services
from tenant_apps.enrollments.models import RequestStatus
from tenant_apps.enrollments.serializers import (
    AccessRequestCreateSerializer,
    AccessRequestSerializer,
    DecisionSerializer,
    StaffAccessRequestSerializer,
)
from tenant_apps.enrollments.views import document_response
from tenants.permissions import IsCommuneStaff

NON_FILE_FIELDS = {"service_id", "children"}


def _files(request) -> dict:
    return {code: upload for code, upload in request.FILES.items() if code not in NON_FILE_FIELDS}


# What a supporting document or a medical certificate is served as (checked by content).
DOCUMENT_MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png")


class AccessRequestsView(GenericAPIView):
    parser_classes = [MultiPartParser, FormParser, ObjectJSONParser]
    serializer_class = AccessRequestSerializer

    @extend_schema(
        responses=AccessRequestSerializer(many=True),
        tags=["access requests"],
        operation_id="access_requests_list",
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.requests_of_family(request.user))
        return self.get_paginated_response(AccessRequestSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": AccessRequestCreateSerializer},
        responses={201: AccessRequestSerializer},
        tags=["access requests"],
        description="One file per required document, in a field named by the document's code.",
    )
    def post(self, request):
        data = {
            "service_id": request.data.get("service_id"),
            "children": request.data.getlist("children")
            if hasattr(request.data, "getlist")
            else request.data.get("children"),
        }
        serializer = AccessRequestCreateSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        access_request = services.submit_access_request(
            commune=request.tenant,
            user=request.user,
            service_id=serializer.validated_data["service_id"],
            child_ids=serializer.validated_data["children"],
            files=_files(request),
        )
        fresh = selectors.request_of_family(request.user, access_request.pk)
        return Response(AccessRequestSerializer(fresh).data, status=status.HTTP_201_CREATED)


class AccessRequestDetailView(APIView):
    @extend_schema(responses=AccessRequestSerializer, tags=["access requests"])
    def get(self, request, request_id: int):
        access_request = selectors.request_of_family(request.user, request_id)
        if access_request is None:
            raise NotFound("Demande introuvable.")
        return Response(AccessRequestSerializer(access_request).data)


class AccessRequestDocumentsView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": None},
        responses=AccessRequestSerializer,
        tags=["access requests"],
        description="Send the documents staff asked for (fields named by document code).",
    )
    def post(self, request, request_id: int):
        services.complete_access_request(
            commune=request.tenant, user=request.user, request_id=request_id, files=_files(request)
        )
        return Response(
            AccessRequestSerializer(selectors.request_of_family(request.user, request_id)).data
        )


class StaffQueueView(GenericAPIView):
    permission_classes = [IsCommuneStaff]
    serializer_class = StaffAccessRequestSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                enum=["", *RequestStatus.values],
                required=False,
                description="Absent or empty: every status.",
            )
        ],
        responses=StaffAccessRequestSerializer(many=True),
        tags=["staff"],
        operation_id="staff_access_requests_list",
    )
    def get(self, request):
        wanted = request.query_params.get("status") or None
        if wanted and wanted not in RequestStatus.values:
            from shared_apps.common.validation import InvalidInput

            raise InvalidInput(
                fields={"status": [f"Valeurs possibles : {', '.join(RequestStatus.values)}."]}
            )
        page = self.paginate_queryset(selectors.staff_queue(wanted))
        return self.get_paginated_response(StaffAccessRequestSerializer(page, many=True).data)


class StaffRequestView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(responses=StaffAccessRequestSerializer, tags=["staff"])
    def get(self, request, request_id: int):
        access_request = selectors.staff_request(request_id)
        if access_request is None:
            raise NotFound("Demande introuvable.")
        services.note_staff_access(
            staff_user=request.user,
            commune=request.tenant,
            family_id=access_request.family_id,
            what="access_request",
            target_id=access_request.pk,
        )
        return Response(StaffAccessRequestSerializer(access_request).data)


class StaffDecisionView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        request=DecisionSerializer, responses=StaffAccessRequestSerializer, tags=["staff"]
    )
    def post(self, request, request_id: int):
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.decide_access_request(
            staff_user=request.user,
            commune=request.tenant,
            request_id=request_id,
            **serializer.validated_data,
        )
        return Response(StaffAccessRequestSerializer(selectors.staff_request(request_id)).data)


class StaffDocumentView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        # The file as it was checked at upload (found by schemathesis: it said octet-stream).
        responses={(200, media): OpenApiTypes.BINARY for media in DOCUMENT_MEDIA_TYPES},
        tags=["staff"],
    )
    def get(self, request, document_id: int):
        document = selectors.document_for_staff(document_id)
        if document is None:
            raise NotFound("Document introuvable.")
        services.note_staff_access(
            staff_user=request.user,
            commune=request.tenant,
            family_id=document.access_request.family_id,
            what="document",
            target_id=document.pk,
        )
        return document_response(document)
