"""Staff API: the family file."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.common.errors import NotFound
from tenant_apps.backoffice import selectors, services
from tenants.permissions import IsCommuneStaff

# --- The family file (staff) -------------------------------------------------------------------


class StaffGuardianSerializer(serializers.Serializer):
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    email = serializers.EmailField(source="user.email")
    phone = serializers.CharField(source="user.phone")


class StaffNamedChildSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    school_class = serializers.CharField()


class StaffFamilyRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    service_id = serializers.IntegerField()
    service_name = serializers.CharField(source="service.name")
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class StaffFamilySerializer(serializers.Serializer):
    """A family known here, in the search results: only the children named in its requests."""

    id = serializers.IntegerField(source="family_id")
    guardians = StaffGuardianSerializer(many=True)
    children = StaffNamedChildSerializer(many=True)
    requests = StaffFamilyRequestSerializer(many=True)


class StaffFamilyChildSerializer(StaffNamedChildSerializer):
    birth_date = serializers.DateField()
    notes = serializers.CharField(help_text="Allergies, PAI… as the family wrote them.")
    service_ids = serializers.ListField(child=serializers.IntegerField())


class StaffDocumentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    access_request_id = serializers.IntegerField()
    label = serializers.CharField(source="document_type.label")
    uploaded_at = serializers.DateTimeField()


class StaffFamilyReservationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    child_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField(source="product.name")
    variant_id = serializers.IntegerField(allow_null=True)
    variant_name = serializers.SerializerMethodField()
    date = serializers.DateField()
    status = serializers.CharField()
    price_cents = serializers.IntegerField()
    booked_by = serializers.SerializerMethodField(help_text='"parent" or "commune" (staff).')
    booked_by_name = serializers.CharField(source="order.booker_name")

    def get_variant_name(self, reservation) -> str:
        return reservation.variant.name if reservation.variant else ""

    def get_booked_by(self, reservation) -> str:
        return "commune" if reservation.order.on_behalf else "parent"


class StaffPocketSerializer(serializers.Serializer):
    label = serializers.CharField()
    scope = serializers.SerializerMethodField(help_text='"general" or "service".')
    balance_cents = serializers.IntegerField()

    def get_scope(self, pocket) -> str:
        return "general" if pocket.general else "service"


class StaffMovementSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField(source="transaction.created_at")
    kind = serializers.CharField(source="transaction.kind")
    description = serializers.CharField(source="transaction.description")
    pocket = serializers.CharField(source="pocket_label")
    amount_cents = serializers.IntegerField()


class StaffAttendanceSerializer(serializers.Serializer):
    attended = serializers.IntegerField()
    absent = serializers.IntegerField()


class StaffConsentSerializer(serializers.Serializer):
    standing = serializers.BooleanField(
        help_text="The family gave this commune standing consent to book on its behalf."
    )
    given_at = serializers.DateTimeField(allow_null=True)


class StaffFamilyFileSerializer(serializers.Serializer):
    """What this commune's staff may see of a family (the children named here only)."""

    id = serializers.IntegerField(source="family_id")
    guardians = StaffGuardianSerializer(many=True)
    children = serializers.SerializerMethodField()
    requests = StaffFamilyRequestSerializer(many=True)
    documents = StaffDocumentRefSerializer(many=True)
    upcoming_reservations = StaffFamilyReservationSerializer(many=True, source="upcoming")
    past_reservations = StaffFamilyReservationSerializer(many=True, source="past")
    attendance = StaffAttendanceSerializer(source="attendance_counts")
    pockets = StaffPocketSerializer(many=True)
    available_cents = serializers.IntegerField()
    movements = StaffMovementSerializer(many=True)
    booking_consent = serializers.SerializerMethodField()

    @extend_schema_field(StaffFamilyChildSerializer(many=True))
    def get_children(self, file) -> list:
        rows = [
            {
                "id": child.pk,
                "first_name": child.first_name,
                "last_name": child.last_name,
                "school_class": child.school_class,
                "birth_date": child.birth_date,
                "notes": child.notes,
                "service_ids": [s.pk for s in file.enrolled.get(child.pk, [])],
            }
            for child in file.children
        ]
        return StaffFamilyChildSerializer(rows, many=True).data

    @extend_schema_field(StaffConsentSerializer)
    def get_booking_consent(self, file) -> dict:
        return {"standing": file.consent_at is not None, "given_at": file.consent_at}


class StaffFamiliesView(GenericAPIView):
    permission_classes = [IsCommuneStaff]
    serializer_class = StaffFamilySerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=False,
                description="Words to find in a guardian's name or e-mail, or in the name of a "
                "child named in this commune's requests (100 characters, 5 words at most). "
                "Absent: every family known here.",
            )
        ],
        responses=StaffFamilySerializer(many=True),
        tags=["staff"],
        operation_id="staff_families_list",
        description="Search the families that sent this commune a request (paginated).",
    )
    def get(self, request):
        q = " ".join(selectors.search_terms(request.query_params.get("q")))
        page = self.paginate_queryset(selectors.search_families(q))
        rows = selectors.family_rows([family.pk for family in page])
        services.record_family_search(
            searched_by=request.user,
            commune=request.tenant,
            query=q,
            found=self.paginator.page.paginator.count,  # type: ignore[attr-defined]
        )
        return self.get_paginated_response(StaffFamilySerializer(rows, many=True).data)


class StaffFamilyView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        responses=StaffFamilyFileSerializer,
        tags=["staff"],
        description="A family's file as this commune sees it: guardians, children named here, "
        "requests, documents, bookings, wallet pockets usable here and their movements for "
        "this commune, attendance, consent for booking on its behalf. Audited.",
    )
    def get(self, request, family_id: int):
        file = selectors.family_file(family_id, commune=request.tenant, today=timezone.localdate())
        if file is None:
            raise NotFound("Famille introuvable pour cette commune.")
        services.record_family_view(
            viewed_by=request.user, commune=request.tenant, family_id=file.family_id, what="api"
        )
        return Response(StaffFamilyFileSerializer(file).data)
