"""Staff API: the cash journal (régie), closings and receipts."""

from __future__ import annotations

import datetime

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.common.errors import NotFound
from shared_apps.common.validation import MAX_DATABASE_ID, date_param
from tenant_apps.backoffice import selectors, services
from tenant_apps.backoffice.models import DayClosing, Receipt
from tenant_apps.backoffice.views.cash import receipt_response
from tenants.models import Role
from tenants.permissions import IsCommuneStaff, staff_role


class JournalPaymentSerializer(serializers.Serializer):
    receipt_id = serializers.IntegerField()
    receipt_number = serializers.CharField()
    created_at = serializers.DateTimeField()
    family_id = serializers.IntegerField()
    family_name = serializers.CharField()
    service_id = serializers.IntegerField()
    service_name = serializers.CharField()
    amount_cents = serializers.IntegerField()
    method = serializers.CharField()
    reference = serializers.CharField()
    agent_id = serializers.IntegerField()
    agent_name = serializers.CharField()


class MethodTotalsSerializer(serializers.Serializer):
    cash = serializers.IntegerField()
    cheque = serializers.IntegerField()
    transfer = serializers.IntegerField()


class ClosingSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField(allow_null=True)
    closed_at = serializers.DateTimeField()
    closed_by_name = serializers.CharField()
    payments_count = serializers.IntegerField()
    total_cents = serializers.IntegerField()
    totals = MethodTotalsSerializer()


class AgentTakingsSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField()
    agent_name = serializers.CharField()
    count = serializers.IntegerField()
    totals = MethodTotalsSerializer()
    total_cents = serializers.IntegerField()
    closing = ClosingSerializer(allow_null=True)


class CashJournalSerializer(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()
    totals = MethodTotalsSerializer()
    total_cents = serializers.IntegerField()
    closed = serializers.BooleanField(help_text="The whole régie's day is closed.")
    day_closing = ClosingSerializer(allow_null=True)
    agents = AgentTakingsSerializer(many=True)
    payments = JournalPaymentSerializer(many=True)


def _closing(closing: DayClosing | None) -> dict | None:
    if closing is None:
        return None
    return {
        "agent_id": closing.agent_id,
        "closed_at": closing.closed_at,
        "closed_by_name": closing.closed_by_name,
        "payments_count": closing.payments_count,
        "total_cents": closing.total_cents,
        "totals": closing.totals,
    }


def _payment(receipt: Receipt) -> dict:
    return {
        "receipt_id": receipt.pk,
        "receipt_number": receipt.number,
        "created_at": receipt.created_at,
        "family_id": receipt.family_id,
        "family_name": receipt.family_name,
        "service_id": receipt.service_id,
        "service_name": receipt.service_name,
        "amount_cents": receipt.amount_cents,
        "method": receipt.method,
        "reference": receipt.reference,
        "agent_id": receipt.agent_id,
        "agent_name": receipt.agent_name,
    }


class CashJournalView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        parameters=[OpenApiParameter("date", datetime.date, required=True)],
        responses={200: CashJournalSerializer},
        tags=["staff"],
        description="The régie's journal of a day: totals per agent and method (cents), the "
        "closings, and every counter payment with its receipt number.",
    )
    def get(self, request):
        day = date_param(request.query_params, "date")
        assert day is not None  # required
        journal = selectors.cash_journal(day)
        services.record_cash_view(
            viewed_by=request.user, commune=request.tenant, what="journal", target=day.isoformat()
        )
        return Response(
            {
                "date": day,
                "count": journal.count,
                "totals": journal.totals,
                "total_cents": journal.total_cents,
                "closed": journal.day_closing is not None,
                "day_closing": _closing(journal.day_closing),
                "agents": [
                    {
                        "agent_id": a.agent_id,
                        "agent_name": a.agent_name,
                        "count": a.count,
                        "totals": a.totals,
                        "total_cents": a.total_cents,
                        "closing": _closing(a.closing),
                    }
                    for a in journal.agents
                ],
                "payments": [_payment(r) for r in journal.receipts],
            }
        )


class CashClosingRequestSerializer(serializers.Serializer):
    date = serializers.DateField()
    agent_id = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DATABASE_ID,
        allow_null=True,
        help_text="The agent whose takings are closed (yourself, unless you are a manager); "
        "null: the whole régie (managers).",
    )


class CashClosingsView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        request=CashClosingRequestSerializer,
        responses={201: ClosingSerializer},
        tags=["staff"],
        description="Close a day's takings and freeze their totals: an agent closes their own, "
        "a manager anyone's or the whole régie's (agent_id null). 403 for an agent closing "
        "another's; 409 `already_closed`.",
    )
    def post(self, request):
        serializer = CashClosingRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        closing = services.close_day(
            commune=request.tenant,
            closed_by=request.user,
            is_manager=staff_role(request) == Role.MANAGER,
            day=data["date"],
            agent_id=data["agent_id"],
        )
        return Response(_closing(closing), status=status.HTTP_201_CREATED)


class ReceiptPdfView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        responses={(200, "application/pdf"): bytes},
        tags=["staff"],
        description="A counter payment's receipt, as a PDF (of this commune only; else 404).",
    )
    def get(self, request, receipt_id: int):
        receipt = selectors.receipt_for_staff(receipt_id)
        if receipt is None:
            raise NotFound("Reçu introuvable.")
        services.record_cash_view(
            viewed_by=request.user, commune=request.tenant, what="receipt", target=receipt.pk
        )
        return receipt_response(request, receipt)
