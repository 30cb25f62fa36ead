"""Reads of the commune's billing data for one family (mandates, invoices)."""

from __future__ import annotations

import datetime

from tenant_apps.billing.models import CreditNote, Invoice, InvoiceLine, Mandate, MandateStatus


def active_mandate(family_id: int | None) -> Mandate | None:
    """The family's active SEPA mandate with this commune (the connection's schema), or None."""
    if family_id is None:
        return None
    return Mandate.objects.filter(family_id=family_id, status=MandateStatus.ACTIVE).first()


def has_active_mandate(family_id: int | None) -> bool:
    """Whether this commune may debit the family now (one query)."""
    if family_id is None:
        return False
    return Mandate.objects.filter(family_id=family_id, status=MandateStatus.ACTIVE).exists()


def mandates_of_family(family_id: int | None, *, limit: int = 20) -> list[Mandate]:
    """The family's mandates here, newest first, without set-ups abandoned before any IBAN."""
    if family_id is None:
        return []
    return list(
        Mandate.objects.filter(family_id=family_id)
        .exclude(status__in=[MandateStatus.PENDING, MandateStatus.FAILED], iban_last4="")
        .order_by("-created_at", "-pk")[:limit]
    )


def invoices_of_family(family_id: int | None, *, limit: int = 36) -> list[Invoice]:
    """The family's invoices here, newest month first (three years); one query."""
    if family_id is None:
        return []
    return list(Invoice.objects.filter(family_id=family_id).order_by("-month", "-sequence")[:limit])


def invoice_of_family(family_id: int | None, invoice_id: int | None) -> Invoice | None:
    """The family's invoice with this id, its lines prefetched; None for anyone else's."""
    if family_id is None or invoice_id is None:
        return None
    return (
        Invoice.objects.filter(family_id=family_id, pk=invoice_id).prefetch_related("lines").first()
    )


def invoice_pdf_context(invoice: Invoice, commune: object) -> dict:
    """What the PDF shows: the invoice, its lines grouped per child (in order), the totals."""
    groups: dict[str, list[InvoiceLine]] = {}
    for line in invoice.lines.all():
        groups.setdefault(line.child_name, []).append(line)
    charged = sum(line.amount_cents for line in invoice.lines.all() if line.amount_cents > 0)
    return {
        "invoice": invoice,
        "commune": commune,
        "groups": [
            (name, lines, sum(line.amount_cents for line in lines))
            for name, lines in groups.items()
        ],
        "charged_cents": charged,
        "credited_cents": charged - invoice.total_cents,
    }


def credit_note_pdf_context(note: CreditNote, commune: object) -> dict:
    """What a credit note's PDF shows: the note, its invoice, its share per service, and what
    remains to pay of the invoice."""
    from tenant_apps.billing.services.credit_notes import due_amounts
    from tenant_apps.catalog.models import Service

    invoice = note.invoice
    services = dict(
        Service.objects.filter(pk__in=[int(k) for k in note.amounts]).values_list("pk", "name")
    )
    return {
        "note": note,
        "invoice": invoice,
        "commune": commune,
        "shares": [
            (services.get(int(k), f"Service n° {k}"), v) for k, v in sorted(note.amounts.items())
        ],
        "remaining_cents": sum(due_amounts(invoice).values()),
    }


def parse_month(value: object) -> datetime.date | None:
    """A month typed AAAA-MM (years 2000–2100), as its first day; None otherwise."""
    text = str(value or "").strip()
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit():
        return None
    year, month = int(text[:4]), int(text[5:])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return datetime.date(year, month, 1)
