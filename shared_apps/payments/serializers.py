from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shared_apps.payments.models import Payment
from shared_apps.payments.selectors import pocket_label
from shared_apps.payments.services import client_config

SCOPES = ["general", "service"]


class TopUpRequestSerializer(serializers.Serializer):
    amount_cents = serializers.IntegerField(help_text="Entre 500 (5 €) et 50 000 (500 €).")
    scope = serializers.ChoiceField(choices=SCOPES)
    commune_slug = serializers.CharField(
        max_length=50, required=False, allow_null=True, allow_blank=True
    )
    service_id = serializers.IntegerField(required=False, allow_null=True)


class ClientPaymentSerializer(serializers.Serializer):
    provider = serializers.CharField()
    client_secret = serializers.CharField()
    publishable_key = serializers.CharField()
    js_url = serializers.CharField()


class TopUpSerializer(serializers.ModelSerializer):
    scope = serializers.ChoiceField(choices=SCOPES)  # the same enum as the wallet's pockets
    commune_slug = serializers.SerializerMethodField()
    pocket_label = serializers.SerializerMethodField()
    payment = serializers.SerializerMethodField(
        help_text="Pour confirmer le paiement (Stripe.js, Card Element) tant qu’il n’est pas "
        "confirmé ; null ensuite."
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "status",
            "amount_cents",
            "currency",
            "scope",
            "commune_slug",
            "service_id",
            "pocket_label",
            "failure_message",
            "created_at",
            "succeeded_at",
            "payment",
        ]
        read_only_fields = fields

    def get_commune_slug(self, payment: Payment) -> str | None:
        return payment.commune.slug if payment.commune_id else None

    def get_pocket_label(self, payment: Payment) -> str:
        return pocket_label(payment)

    @extend_schema_field(ClientPaymentSerializer(allow_null=True))
    def get_payment(self, payment: Payment) -> dict | None:
        return client_config(payment)
