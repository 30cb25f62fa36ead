"""Staff API: the dashboard (the figures of the Gestion home page)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tenant_apps.backoffice.dashboard import dashboard, record_dashboard_view
from tenants.permissions import IsCommuneStaff


class DashboardVariantSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()


class DashboardProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product = serializers.CharField()
    service = serializers.CharField()
    open = serializers.BooleanField(
        help_text="False when the product does not run that day (weekday, holiday, closure)."
    )
    closed_reason = serializers.CharField(help_text="Why it is closed, in French; '' if open.")
    booked = serializers.IntegerField(help_text="Places booked (booked, present or absent).")
    capacity = serializers.IntegerField(allow_null=True)
    variants = DashboardVariantSerializer(many=True, help_text="Per meal variant, when used.")


class DashboardDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    label = serializers.CharField()
    booked = serializers.IntegerField()
    products = DashboardProductSerializer(many=True)


class DashboardCancellationSerializer(serializers.Serializer):
    reservation_id = serializers.IntegerField()
    family_id = serializers.IntegerField()
    child = serializers.CharField()
    product = serializers.CharField()
    date = serializers.DateField()
    cancelled_at = serializers.DateTimeField()
    refund_cents = serializers.IntegerField()


class DashboardLowBalanceSerializer(serializers.Serializer):
    family_id = serializers.IntegerField()
    family = serializers.CharField()
    service = serializers.CharField()
    balance_cents = serializers.IntegerField()
    threshold_cents = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    today = serializers.DateField()
    days = DashboardDaySerializer(many=True, help_text="Today and tomorrow.")
    pending_requests = serializers.IntegerField(help_text="Access requests awaiting a decision.")
    oldest_pending_at = serializers.DateTimeField(allow_null=True)
    oldest_pending_days = serializers.IntegerField(allow_null=True)
    info_requested = serializers.IntegerField(help_text="Requests waiting for the family.")
    missing_documents = serializers.IntegerField(
        help_text="Requests waiting for the family, or submitted without a required document."
    )
    cancellations = serializers.IntegerField(help_text="Places cancelled in the last 7 days.")
    latest_cancellations = DashboardCancellationSerializer(many=True)
    low_balances = serializers.IntegerField(
        help_text="Pockets of this commune's services below the service's alert threshold."
    )
    lowest_balances = DashboardLowBalanceSerializer(many=True)
    direct_debit_items = serializers.IntegerField(help_text="Places to invoice (direct debit).")
    direct_debit_cents = serializers.IntegerField()


class DashboardView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        responses={200: DashboardSerializer},
        tags=["staff"],
        description="The commune's dashboard: today's and tomorrow's booked places per product "
        "(and meal variant), access requests waiting and missing documents, cancellations of "
        "the last 7 days, low wallet balances, direct-debit places to invoice. Audited.",
    )
    def get(self, request):
        figures = dashboard(commune=request.tenant)
        record_dashboard_view(viewed_by=request.user, commune=request.tenant, figures=figures)
        return Response(DashboardSerializer(figures).data)
