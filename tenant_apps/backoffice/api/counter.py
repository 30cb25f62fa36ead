"""Staff API: counter payments (versements en mairie), with their receipt."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.common.validation import MAX_DATABASE_ID
from shared_apps.wallet.errors import DuplicateCounterPayment
from tenant_apps.backoffice import services
from tenants.permissions import IsCommuneStaff


class CounterCreditSerializer(serializers.Serializer):
    family_id = serializers.IntegerField(min_value=0, max_value=MAX_DATABASE_ID)
    service_id = serializers.IntegerField(min_value=0, max_value=MAX_DATABASE_ID)
    amount_cents = serializers.IntegerField()
    method = serializers.ChoiceField(choices=["cash", "cheque", "transfer"])
    reference = serializers.CharField(max_length=60)


class CounterCreditResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    family_id = serializers.IntegerField()
    service_id = serializers.IntegerField()
    amount_cents = serializers.IntegerField()
    method = serializers.CharField()
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    receipt_id = serializers.IntegerField()
    receipt_number = serializers.CharField()


class WalletCreditsView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        request=CounterCreditSerializer,
        responses={201: CounterCreditResultSerializer},
        tags=["staff"],
        description="Record a counter payment (cash, cheque, transfer) received at the town hall, "
        "with its numbered receipt (`receipt_number`, PDF at staff/receipts/{receipt_id}). The "
        "same family, method and reference again is a 409 `duplicate_reference` naming the "
        "first receipt; nothing is credited twice. A 409 `day_closed` when the agent's takings "
        "of today (or the whole régie's) are closed.",
    )
    def post(self, request):
        serializer = CounterCreditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.record_counter_credit(
            commune=request.tenant, staff_user=request.user, **data
        )
        receipt = result.receipt
        if not result.created:
            raise DuplicateCounterPayment(
                f"Un encaissement avec cette référence est déjà enregistré : reçu n° "
                f"{receipt.number}."
            )
        return Response(
            {
                "id": receipt.ledger_transaction_id,
                "family_id": data["family_id"],
                "service_id": data["service_id"],
                "amount_cents": data["amount_cents"],
                "method": data["method"],
                "reference": data["reference"],
                "created_at": receipt.created_at,
                "receipt_id": receipt.pk,
                "receipt_number": receipt.number,
            },
            status=status.HTTP_201_CREATED,
        )
