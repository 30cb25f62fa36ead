"""Billing background work: the monthly invoicing, one task per active commune (TenantTask:
each runs in the schema it names), idempotent (one InvoiceRun per commune and month)."""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone

from config.celery import TenantTask, app
from shared_apps.common.links import absolute_url
from shared_apps.families.models import Guardian
from shared_apps.jobs.scheduling import fan_out, job_task
from shared_apps.notifications.email import send_templated_email
from tenant_apps.billing.models import Invoice
from tenant_apps.billing.services.collection import collect_month
from tenant_apps.billing.services.invoicing import build_invoices, previous_month
from tenants.models import Commune
from tenants.services import commune_is_suspended
from tenants.urls import commune_reverse

logger = logging.getLogger(__name__)


@job_task(tenant=True)
def build_invoices_task(schema_name: str, month_iso: str) -> int:
    """Invoice one month in one commune; returns how many invoices this run issued."""
    if commune_is_suspended(schema_name):  # queued before a suspension: looked at again now
        return 0
    commune = Commune.objects.get(schema_name=schema_name)
    month = datetime.date.fromisoformat(month_iso)
    result = build_invoices(commune=commune, month=month)
    # Then debit the month's invoices on the families' mandates (idempotent: an invoice paid or
    # being collected is skipped, so the next morning's run only retries what never started).
    collect_month(commune=commune, month=result.run.month)
    return len(result.invoices) if result.created else 0


@job_task()
def build_last_month_invoices_everywhere() -> int:
    """Beat (every morning; the first run of a month issues, the next find its InvoiceRun):
    last month's invoices, one sub-task per commune taking jobs."""
    month = previous_month(timezone.localdate())
    return fan_out(build_invoices_task, month.isoformat())


@app.task(base=TenantTask)
def send_debit_failed_email_task(schema_name: str, invoice_id: int) -> None:
    """Tell the family its invoice's direct debit was rejected and how to pay it instead."""
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        return
    commune = Commune.objects.get(schema_name=schema_name)
    link = absolute_url(commune_reverse(commune, "billing-invoices"))
    for email in Guardian.objects.filter(family_id=invoice.family_id).values_list(
        "user__email", flat=True
    ):
        send_templated_email(
            to=email,
            template="debit_failed",
            context={"invoice": invoice, "commune": commune, "link": link},
        )


@app.task(base=TenantTask)
def send_invoice_email_task(schema_name: str, invoice_id: int) -> None:
    """Tell the family its monthly invoice is issued, with the link to download it."""
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        return
    commune = Commune.objects.get(schema_name=schema_name)
    link = absolute_url(commune_reverse(commune, "billing-invoices"))
    for email in Guardian.objects.filter(family_id=invoice.family_id).values_list(
        "user__email", flat=True
    ):
        send_templated_email(
            to=email,
            template="invoice_issued",
            context={"invoice": invoice, "commune": commune, "link": link},
        )


@app.task(base=TenantTask)
def send_credit_note_email_task(schema_name: str, note_id: int) -> None:
    """Send the family its credit note (avoir) as a PDF, with the link to its invoices."""
    from shared_apps.common.exports import pdf_bytes
    from tenant_apps.billing.models import CreditNote
    from tenant_apps.billing.selectors import credit_note_pdf_context

    note = CreditNote.objects.select_related("invoice").filter(pk=note_id).first()
    if note is None:
        return
    commune = Commune.objects.get(schema_name=schema_name)
    pdf = pdf_bytes("billing/credit_note_pdf.html", credit_note_pdf_context(note, commune))
    link = absolute_url(commune_reverse(commune, "billing-invoices"))
    for email in Guardian.objects.filter(family_id=note.family_id).values_list(
        "user__email", flat=True
    ):
        send_templated_email(
            to=email,
            template="credit_note_issued",
            context={"note": note, "invoice": note.invoice, "commune": commune, "link": link},
            attachments=[(f"avoir-{note.number}.pdf", pdf, "application/pdf")],
        )


@app.task(base=TenantTask, bind=True, max_retries=10)
def detach_mandate_method_task(self, schema_name: str, mandate_id: int) -> None:
    """At the provider, detach the payment method of a mandate that is revoked or replaced, so
    that no debit can ever be made with it (retried while the provider cannot be reached; our
    own refusal — collections need an active mandate — holds meanwhile)."""
    from shared_apps.payments.services import detach_sepa_method
    from tenant_apps.billing.models import Mandate, MandateStatus

    mandate = Mandate.objects.filter(
        pk=mandate_id, status__in=[MandateStatus.REVOKED, MandateStatus.REPLACED]
    ).first()
    if mandate is None or not mandate.payment_method_ref:
        return
    detach_sepa_method(
        payment_method_ref=mandate.payment_method_ref, provider_name=mandate.provider
    )
