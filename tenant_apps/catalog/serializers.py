"""The catalogue as families' apps read it (GET /c/<slug>/api/v1/services)."""

from rest_framework import serializers

from tenant_apps.catalog.models import (
    DocumentType,
    FileFormat,
    MealVariant,
    PaymentMethod,
    Product,
    Service,
)


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = MealVariant
        fields = ["id", "name"]


class ProductSerializer(serializers.ModelSerializer):
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "description", "price_cents", "variants"]


class RequiredDocumentSerializer(serializers.ModelSerializer):
    accepted_formats = serializers.ListField(child=serializers.ChoiceField(FileFormat.choices))

    class Meta:
        model = DocumentType
        fields = ["code", "label", "help_text", "required", "accepted_formats"]


class ServiceSerializer(serializers.ModelSerializer):
    products = ProductSerializer(source="offered_products", many=True, read_only=True)
    required_documents = RequiredDocumentSerializer(
        source="document_list",
        many=True,
        read_only=True,
        help_text="Every document the service asks for; `required` false means optional.",
    )
    payment_methods = serializers.ListField(child=serializers.ChoiceField(PaymentMethod.choices))
    rules = serializers.SerializerMethodField(help_text="Booking rules (deadlines…), to come.")

    class Meta:
        model = Service
        fields = [
            "id",
            "kind",
            "name",
            "description",
            "products",
            "required_documents",
            "payment_methods",
            "rules",
        ]

    def get_rules(self, service) -> dict:
        return {}
