from rest_framework import serializers

from tenant_apps.billing.models import Mandate


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
