from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tenant_apps.billing.models import Invoice, InvoiceLine, Mandate


class MandateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Mandate
        fields = [
            "id",
            "status",
            "iban_last4",
            "country",
            "mandate_reference",
            "created_at",
            "activated_at",
            "ended_at",
        ]
        read_only_fields = fields


class MandateSetupSerializer(serializers.Serializer):
    """A pending mandate and what the app needs to confirm it (Stripe.js
    confirmSepaDebitSetup with the client secret and the publishable key)."""

    mandate = MandateSerializer()
    client_secret = serializers.CharField()
    publishable_key = serializers.CharField()
    provider = serializers.CharField()


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["kind", "child_id", "child_name", "date", "product_name", "label", "amount_cents"]
        read_only_fields = fields


class InvoiceStateSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["unpaid", "pending", "paid", "failed", "credited"])
    label = serializers.CharField()
    failure = serializers.CharField(help_text="Le motif de rejet de la banque, en français.")


class InvoiceSerializer(serializers.ModelSerializer):
    """An invoice; `state` comes from the context's {invoice id: InvoiceState}."""

    state = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = ["id", "number", "month", "issued_at", "total_cents", "state"]
        read_only_fields = fields

    @extend_schema_field(InvoiceStateSerializer)
    def get_state(self, invoice: Invoice) -> dict:
        state = self.context["states"][invoice.pk]
        return {"code": state.code, "label": state.label, "failure": state.failure}


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines"]
        read_only_fields = fields
