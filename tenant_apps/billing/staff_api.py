"""Staff billing API of a commune: a month's invoices, failed debits and totals beside the
ledger (agents and managers), credit notes (managers). Thin: one selector or use case each,
with `request.tenant`; families' data read here is audited like the pages."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.audit.services import record
from shared_apps.common.validation import InvalidInput, parse_id
from shared_apps.payments.api import ErrorSerializer
from tenant_apps.billing.errors import InvoiceNotFound
from tenant_apps.billing.models import CreditNote, Invoice
from tenant_apps.billing.reports import month_report
from tenant_apps.billing.selectors import parse_month
from tenant_apps.billing.serializers import InvoiceStateSerializer
from tenant_apps.billing.services.credit_notes import issue_credit_note
from tenants.permissions import IsCommuneManager, IsCommuneStaff


class StaffInvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    family_id = serializers.IntegerField()
    addressee = serializers.CharField()
    issued_at = serializers.DateTimeField()
    total_cents = serializers.IntegerField()
    credited_cents = serializers.IntegerField()
    due_cents = serializers.IntegerField()
    state = InvoiceStateSerializer()
    failed_at = serializers.DateTimeField(allow_null=True)


class ServiceTotalsSerializer(serializers.Serializer):
    service_id = serializers.IntegerField()
    name = serializers.CharField()
    invoiced_charged_cents = serializers.IntegerField()
    invoiced_credited_cents = serializers.IntegerField()
    invoiced_settled_cents = serializers.IntegerField()
    ledger_charged_cents = serializers.IntegerField()
    ledger_credited_cents = serializers.IntegerField()
    ledger_settled_cents = serializers.IntegerField()
    gap_due_cents = serializers.IntegerField()
    gap_settled_cents = serializers.IntegerField()


class CreditNoteSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number")

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "invoice_id",
            "invoice_number",
            "family_id",
            "amount_cents",
            "amounts",
            "reason",
            "destination",
            "issued_at",
        ]
        read_only_fields = fields


class StaffMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="AAAA-MM")
    invoiced = serializers.BooleanField(help_text="The month's invoicing has run.")
    invoiced_cents = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    invoices = StaffInvoiceSerializer(many=True)
    failed = StaffInvoiceSerializer(many=True, help_text="Rejected debits to follow up.")
    credit_notes = CreditNoteSerializer(many=True)
    totals = ServiceTotalsSerializer(many=True)
    ledger_matches = serializers.BooleanField()


def _invoice(row) -> dict:
    return {
        "id": row.invoice.pk,
        "number": row.invoice.number,
        "family_id": row.invoice.family_id,
        "addressee": row.invoice.addressee,
        "issued_at": row.invoice.issued_at,
        "total_cents": row.invoice.total_cents,
        "credited_cents": row.credited_cents,
        "due_cents": row.due_cents,
        "state": {"code": row.state.code, "label": row.state.label, "failure": row.state.failure},
        "failed_at": row.state.failed_at,
    }


class StaffInvoicesView(APIView):
    permission_classes = [IsCommuneStaff]

    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, required=True, description="AAAA-MM, e.g. 2026-12")
        ],
        responses={200: StaffMonthSerializer, 400: ErrorSerializer},
        tags=["staff"],
        description="A month's invoices with their states, the rejected debits to follow up, "
        "the credit notes, and the totals per service beside the ledger's (receivables charged, "
        "credited, settled for the days of the month; gap_* ≠ 0 is an écart). Audited.",
    )
    def get(self, request):
        month = parse_month(request.query_params.get("month"))
        if month is None:
            raise InvalidInput(
                "Mois invalide : indiquez-le sous la forme AAAA-MM (ex. 2026-12).",
                fields={"month": ["Mois au format AAAA-MM."]},
            )
        report = month_report(request.tenant, month)
        record(
            actor=request.user,
            commune=request.tenant,
            action="billing.invoices_view",
            target_type="month",
            target_id=f"{month:%Y-%m}",
            details={"invoices": len(report.rows), "output": "api"},
        )
        return Response(
            {
                "month": f"{month:%Y-%m}",
                "invoiced": report.invoiced,
                "invoiced_cents": report.invoiced_cents,
                "counts": report.counts,
                "invoices": [_invoice(r) for r in report.rows],
                "failed": [_invoice(r) for r in report.failed],
                "credit_notes": CreditNoteSerializer(report.notes, many=True).data,
                "totals": [
                    {
                        "service_id": t.service_id,
                        "name": t.name,
                        "invoiced_charged_cents": t.invoiced_charged,
                        "invoiced_credited_cents": t.invoiced_credited,
                        "invoiced_settled_cents": t.invoiced_settled,
                        "ledger_charged_cents": t.ledger_charged,
                        "ledger_credited_cents": t.ledger_credited,
                        "ledger_settled_cents": t.ledger_settled,
                        "gap_due_cents": t.gap_due,
                        "gap_settled_cents": t.gap_settled,
                    }
                    for t in report.totals
                ],
                "ledger_matches": not report.differs,
            }
        )


class CreditNoteRequestSerializer(serializers.Serializer):
    amount = serializers.CharField(help_text='Euros as typed ("12,50") or cents as an integer.')
    reason = serializers.CharField(max_length=500)


class StaffCreditNotesView(APIView):
    permission_classes = [IsCommuneManager]

    def _invoice(self, request, invoice_id: int) -> Invoice:
        invoice = Invoice.objects.filter(pk=parse_id(invoice_id)).first()
        if invoice is None:
            raise InvoiceNotFound()
        return invoice

    @extend_schema(
        responses={200: CreditNoteSerializer(many=True), 404: ErrorSerializer},
        tags=["staff"],
        description="The credit notes of one invoice of this commune, oldest first (managers).",
    )
    def get(self, request, invoice_id: int):
        invoice = self._invoice(request, invoice_id)
        record(
            actor=request.user,
            commune=request.tenant,
            action="billing.invoice_view",
            target_type="invoice",
            target_id=str(invoice.pk),
            family_id=invoice.family_id,
        )
        notes = invoice.credit_notes.select_related("invoice").order_by("sequence")
        return Response(CreditNoteSerializer(notes, many=True).data)

    @extend_schema(
        request=CreditNoteRequestSerializer,
        responses={
            201: CreditNoteSerializer,
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="A payment is in progress."),
        },
        tags=["staff"],
        description="Issue a credit note (avoir) on an invoice of this commune (managers): "
        "`amount` at most what remains of the invoice, `reason` required. Deducted from what "
        "the family owes, or put in its wallet if the invoice is paid; the family is e-mailed "
        "the credit note's PDF. Nothing is written on error.",
    )
    def post(self, request, invoice_id: int):
        data = request.data
        amount = data.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int | str | type(None)):
            amount = ""  # a list, an object, a float: refused as any bad amount
        note = issue_credit_note(
            commune=request.tenant,
            staff_user=request.user,
            invoice_id=invoice_id,
            amount=amount,
            reason=data.get("reason") if isinstance(data.get("reason"), str) else "",
        )
        return Response(CreditNoteSerializer(note).data, status=status.HTTP_201_CREATED)
