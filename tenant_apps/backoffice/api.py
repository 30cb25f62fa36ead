from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.common.validation import MAX_DATABASE_ID
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


class WalletCreditsView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        request=CounterCreditSerializer,
        responses={201: CounterCreditResultSerializer},
        tags=["staff"],
        description="Record a counter payment (cash, cheque, transfer) received at the town hall.",
    )
    def post(self, request):
        serializer = CounterCreditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ledger_transaction = services.record_counter_credit(
            commune=request.tenant, staff_user=request.user, **data
        )
        return Response(
            {
                "id": ledger_transaction.pk,
                "family_id": data["family_id"],
                "service_id": data["service_id"],
                "amount_cents": data["amount_cents"],
                "method": data["method"],
                "reference": data["reference"],
                "created_at": ledger_transaction.created_at,
            },
            status=status.HTTP_201_CREATED,
        )
