from rest_framework import serializers

from shared_apps.common.validation import MAX_DATABASE_ID
from tenant_apps.enrollments.models import AccessRequest, Document
from tenant_apps.enrollments.services import MAX_CHILDREN_PER_REQUEST


class DocumentSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="document_type.code")
    label = serializers.CharField(source="document_type.label")
    status = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "code",
            "label",
            "status",
            "original_name",
            "content_type",
            "size",
            "uploaded_at",
        ]

    def get_status(self, document) -> str:
        request = document.access_request
        if (
            request.status == "info_requested"
            and request.info_document_type_id == document.document_type_id
        ):
            return "info_requested"
        return {"accepted": "accepted", "rejected": "rejected"}.get(request.status, "submitted")


class RequestChildSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="child.id")
    first_name = serializers.CharField(source="child.first_name")
    last_name = serializers.CharField(source="child.last_name")


class AccessRequestSerializer(serializers.ModelSerializer):
    service_id = serializers.IntegerField()
    service_name = serializers.CharField(source="service.name")
    children = RequestChildSerializer(source="request_children", many=True)
    documents = DocumentSerializer(source="current_documents", many=True)
    info_document_code = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "status",
            "service_id",
            "service_name",
            "children",
            "documents",
            "reason",
            "info_document_code",
            "created_at",
            "decided_at",
        ]

    def get_info_document_code(self, access_request) -> str | None:
        doc_type = access_request.info_document_type
        return doc_type.code if doc_type else None


class StaffAccessRequestSerializer(AccessRequestSerializer):
    family_id = serializers.IntegerField()
    submitted_by = serializers.SerializerMethodField()

    class Meta(AccessRequestSerializer.Meta):
        fields = [*AccessRequestSerializer.Meta.fields, "family_id", "submitted_by"]

    def get_submitted_by(self, access_request) -> dict:
        user = access_request.submitted_by
        return {"name": user.get_full_name(), "email": user.email, "phone": user.phone}


class AccessRequestCreateSerializer(serializers.Serializer):
    """Multipart: service_id, children (ids, repeated), one file per document code."""

    service_id = serializers.IntegerField(min_value=0, max_value=MAX_DATABASE_ID)
    children = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DATABASE_ID),
        allow_empty=True,
        max_length=MAX_CHILDREN_PER_REQUEST,
    )


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "reject", "request_info"])
    reason = serializers.CharField(allow_blank=True, required=False, max_length=2000)
    document_code = serializers.CharField(allow_blank=True, required=False, max_length=40)
