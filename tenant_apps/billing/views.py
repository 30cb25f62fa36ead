"""Billing pages of a commune for parents: "Prélèvement" (the SEPA mandate: set up, replace,
revoke) and, later, the family's invoices. Thin: each calls one use case with `request.tenant`."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from shared_apps.audit.services import record
from shared_apps.common.errors import DomainError
from shared_apps.common.exports import csv_response, pdf_response, xlsx_response
from shared_apps.common.links import absolute_url
from shared_apps.common.money import format_euros
from shared_apps.common.validation import parse_id
from shared_apps.families.selectors import family_id_of
from shared_apps.payments.services import direct_debit_setup_available, sepa_setup_config
from tenant_apps.billing import selectors
from tenant_apps.billing.models import Collection, CreditNote, Invoice, MandateStatus
from tenant_apps.billing.reports import EXPORT_TABLES, month_report
from tenant_apps.billing.services.collection import (
    card_attempt_expired,
    invoice_states,
    pay_invoice_by_card,
    pay_invoice_from_wallet,
)
from tenant_apps.billing.services.credit_notes import due_amounts, issue_credit_note
from tenant_apps.billing.services.invoicing import previous_month
from tenant_apps.billing.services.mandates import (
    own_mandate,
    revoke_mandate,
    start_mandate,
    sync_mandate,
)
from tenants.models import Role
from tenants.permissions import staff_required, staff_role
from tenants.urls import commune_reverse


def _url(request, name, *args) -> str:
    return commune_reverse(request.tenant, name, args=args)


@login_required
def mandate_home(request: HttpRequest) -> HttpResponse:
    """The family's mandate with this commune (IBAN's last digits, date), its history, and the
    buttons to set one up, replace or revoke it."""
    family_id = family_id_of(request.user)
    return render(
        request,
        "billing/mandate.html",
        {
            "active": selectors.active_mandate(family_id),
            "history": [
                m
                for m in selectors.mandates_of_family(family_id)
                if m.status != MandateStatus.ACTIVE
            ],
            "available": direct_debit_setup_available(),
        },
    )


@login_required
@require_POST
def mandate_start(request: HttpRequest) -> HttpResponse:
    try:
        mandate = start_mandate(commune=request.tenant, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_url(request, "billing-mandate"))
    return redirect(_url(request, "billing-mandate-iban", mandate.pk))


@login_required
def mandate_iban(request: HttpRequest, mandate_id: int) -> HttpResponse:
    """The IBAN Element and the mandate's wording; confirmed in the page by Stripe.js."""
    try:
        mandate = own_mandate(user=request.user, mandate_id=mandate_id)
    except DomainError as exc:
        raise Http404 from exc
    if mandate.status != MandateStatus.PENDING or not mandate.client_secret:
        return redirect(_url(request, "billing-mandate"))
    config = sepa_setup_config(client_secret=mandate.client_secret)
    return render(
        request,
        "billing/mandate_iban.html",
        {
            "mandate": mandate,
            "config": config,
            # Stripe's own IBAN Element; the offline stand-in has none (payments.js).
            "iban_element": str(config.get("js_url", "")).startswith("https://js.stripe.com/"),
            "return_url": absolute_url(_url(request, "billing-mandate-return", mandate.pk)),
            "holder_email": request.user.email,
            "holder_name": request.user.get_full_name(),
        },
    )


@login_required
def mandate_return(request: HttpRequest, mandate_id: int) -> HttpResponse:
    """Where the IBAN page sends the parent: the mandate's state is asked to the provider here
    (server-side), whatever the browser says."""
    try:
        mandate = own_mandate(user=request.user, mandate_id=mandate_id)
        mandate = sync_mandate(commune=request.tenant, mandate_id=mandate.pk)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect(_url(request, "billing-mandate"))
    if mandate.status == MandateStatus.ACTIVE:
        messages.success(
            request,
            f"Mandat de prélèvement enregistré (compte se terminant par {mandate.iban_last4}). "
            "Vous pouvez maintenant choisir « Prélèvement » au moment de payer.",
        )
    elif mandate.status == MandateStatus.FAILED:
        messages.error(request, "Le mandat n’a pas pu être mis en place : aucun prélèvement.")
    elif mandate.status == MandateStatus.PENDING:
        messages.info(
            request,
            "Votre mandat n’est pas encore confirmé. Revenez sur cette page dans un instant.",
        )
    return redirect(_url(request, "billing-mandate"))


@login_required
@require_POST
def mandate_revoke(request: HttpRequest, mandate_id: int) -> HttpResponse:
    try:
        revoke_mandate(commune=request.tenant, user=request.user, mandate_id=mandate_id)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect(_url(request, "billing-mandate"))
    messages.success(
        request,
        "Mandat révoqué : la commune ne prélèvera plus votre compte. Les jours déjà réservés "
        "par prélèvement restent dus et seront à régler autrement.",
    )
    return redirect(_url(request, "billing-mandate"))


@login_required
def invoices(request: HttpRequest) -> HttpResponse:
    """The family's monthly invoices with this commune, each downloadable as a PDF, with its
    collection state (a rejected debit says the bank's reason)."""
    invoices_ = selectors.invoices_of_family(family_id_of(request.user))
    states = invoice_states(invoices_)
    notes: dict[int, list[CreditNote]] = {}
    for note in CreditNote.objects.filter(invoice__in=invoices_).order_by("sequence"):
        notes.setdefault(note.invoice_id, []).append(note)
    return render(
        request,
        "billing/invoices.html",
        {
            "invoices": [
                (
                    invoice,
                    states[invoice.pk],
                    notes.get(invoice.pk, []),
                    invoice.total_cents - sum(n.amount_cents for n in notes.get(invoice.pk, [])),
                )
                for invoice in invoices_
            ],
        },
    )


@login_required
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """One invoice as a PDF; another family's (or another commune's) is a 404."""
    invoice = selectors.invoice_of_family(family_id_of(request.user), parse_id(invoice_id))
    if invoice is None:
        raise Http404
    return pdf_response(
        f"facture-{invoice.number}.pdf",
        "billing/invoice_pdf.html",
        selectors.invoice_pdf_context(invoice, request.tenant),
    )


@login_required
@require_POST
def invoice_pay_wallet(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Pay an invoice still to pay (never debited, or its debit rejected) from the wallet."""
    try:
        invoice = pay_invoice_from_wallet(
            commune=request.tenant, user=request.user, invoice_id=invoice_id
        )
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Facture {invoice.number} payée avec le porte-monnaie.")
    return redirect(_url(request, "billing-invoices"))


@login_required
@require_POST
def invoice_pay_card(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Start (or resume) the card payment of an invoice still to pay."""
    try:
        payment = pay_invoice_by_card(
            commune=request.tenant, user=request.user, invoice_id=invoice_id
        )
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect(_url(request, "billing-invoices"))
    return redirect(_url(request, "billing-invoice-card", parse_id(invoice_id), payment.pk))


@login_required
def invoice_card(request: HttpRequest, invoice_id: int, payment_id: int) -> HttpResponse:
    """The card, in the provider's Card Element; the invoice is paid when the webhook says so."""
    from shared_apps.payments.models import Payment
    from shared_apps.payments.services import client_config

    invoice = selectors.invoice_of_family(family_id_of(request.user), parse_id(invoice_id))
    payment = (
        Payment.objects.filter(
            pk=parse_id(payment_id),
            family_id=invoice.family_id,
            metadata__invoice_id=str(invoice.pk),
            metadata__schema=request.tenant.schema_name,
        ).first()
        if invoice is not None
        else None
    )
    if invoice is None or payment is None:
        raise Http404
    attempt = Collection.objects.filter(payment_id=payment.pk).first()
    if attempt is not None and card_attempt_expired(attempt, payment, timezone.now()):
        messages.info(
            request,
            "Ce paiement par carte n’a pas été terminé à temps : recommencez-le, ou payez "
            "autrement.",
        )
        return redirect(_url(request, "billing-invoices"))
    config = client_config(payment)
    if config is None:
        return redirect(_url(request, "billing-invoices"))
    return render(
        request,
        "billing/invoice_card.html",
        {
            "invoice": invoice,
            "payment": payment,
            "config": config,
            "return_url": absolute_url(_url(request, "billing-invoices")),
        },
    )


def staff_month(request: HttpRequest) -> tuple[datetime.date, str]:
    """The month asked by ?mois=AAAA-MM (default: last month) and an error for a bad one."""
    today = timezone.localdate()
    raw = request.GET.get("mois")
    month = selectors.parse_month(raw) if raw else previous_month(today)
    error = "" if month else "Mois invalide : indiquez-le sous la forme AAAA-MM (ex. 2026-12)."
    return month or previous_month(today), error


@staff_required
def staff_invoices(request: HttpRequest) -> HttpResponse:
    """Gestion → Factures: a month's invoices with their collection state, the failed debits to
    follow up (the bank's reason, the date, a link to the family's file), the totals per
    service beside the ledger's (an écart is shown), and the accountant's exports
    (?format=xlsx: every table; ?format=csv&tableau=<reports.EXPORT_TABLES>). Families' names
    are family data: each view and export is audited."""
    month, error = staff_month(request)
    wanted = request.GET.get("format", "")
    table = request.GET.get("tableau", "")
    if not error and wanted == "csv" and table not in EXPORT_TABLES:
        error = "Tableau : factures, avoirs, paiements, rejets ou totaux."
    report = month_report(request.tenant, month)
    output = wanted if wanted in ("xlsx", "csv") and not error else "page"
    record(
        actor=request.user,
        commune=request.tenant,
        action="billing.invoices_view",
        target_type="month",
        target_id=f"{month:%Y-%m}",
        details={
            "invoices": len(report.rows),
            "output": output,
            **({"table": table} if output == "csv" else {}),
        },
    )
    name = f"factures-{request.tenant.slug}-{month:%Y-%m}"
    if output == "xlsx":
        return xlsx_response(f"{name}.xlsx", list(report.sheets().values()))
    if output == "csv":
        return csv_response(f"{name}-{table}.csv", report.sheets()[table])
    return render(
        request,
        "billing/staff_invoices.html",
        {
            "month": month,
            "month_value": f"{month:%Y-%m}",
            "error": error,
            "report": report,
            "is_manager": staff_role(request) == Role.MANAGER,
            "tables": [
                ("factures", "Factures"),
                ("avoirs", "Avoirs"),
                ("paiements", "Paiements"),
                ("rejets", "Prélèvements rejetés"),
                ("totaux", "Totaux par service"),
            ],
        },
    )


def _credit_note_pdf(request: HttpRequest, note: CreditNote) -> HttpResponse:
    return pdf_response(
        f"avoir-{note.number}.pdf",
        "billing/credit_note_pdf.html",
        selectors.credit_note_pdf_context(note, request.tenant),
    )


@login_required
def credit_note_pdf(request: HttpRequest, note_id: int) -> HttpResponse:
    """One of the family's credit notes as a PDF; another family's (or commune's) is a 404."""
    family_id = family_id_of(request.user)
    note = (
        CreditNote.objects.select_related("invoice")
        .filter(pk=parse_id(note_id), family_id=family_id)  # type: ignore[misc]
        .first()
        if family_id is not None
        else None
    )
    if note is None:
        raise Http404
    return _credit_note_pdf(request, note)


@staff_required(manager=True)
def staff_credit_note_pdf(request: HttpRequest, note_id: int) -> HttpResponse:
    """Gestion: a credit note of this commune as a PDF (audited: it names the family)."""
    note = CreditNote.objects.select_related("invoice").filter(pk=parse_id(note_id)).first()
    if note is None:
        raise Http404
    record(
        actor=request.user,
        commune=request.tenant,
        action="billing.credit_note_view",
        target_type="credit_note",
        target_id=str(note.pk),
        family_id=note.family_id,
    )
    return _credit_note_pdf(request, note)


@staff_required(manager=True)
def staff_credit_note(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Gestion → Factures → Avoir (managers): the invoice, its credit notes, and the form to
    issue one (amount ≤ what remains, reason). Audited: it shows a family's invoice."""
    invoice = Invoice.objects.filter(pk=parse_id(invoice_id)).first()
    if invoice is None:
        raise Http404
    values = {"amount": "", "reason": ""}
    errors: dict[str, list[str]] = {}
    form_error = ""
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            note = issue_credit_note(
                commune=request.tenant,
                staff_user=request.user,
                invoice_id=invoice.pk,
                amount=values["amount"],
                reason=values["reason"],
            )
        except DomainError as exc:
            errors, form_error = exc.fields, exc.message
        else:
            messages.success(
                request, f"Avoir {note.number} émis ({format_euros(note.amount_cents)})."
            )
            return redirect(_url(request, "billing-staff-credit-note", invoice.pk))
    record(
        actor=request.user,
        commune=request.tenant,
        action="billing.invoice_view",
        target_type="invoice",
        target_id=str(invoice.pk),
        family_id=invoice.family_id,
    )
    state = invoice_states([invoice])[invoice.pk]
    return render(
        request,
        "billing/credit_note_form.html",
        {
            "invoice": invoice,
            "state": state,
            "notes": list(invoice.credit_notes.order_by("sequence")),
            "left_cents": 0 if state.code == "pending" else sum(due_amounts(invoice).values()),
            "values": values,
            "errors": errors,
            "form_error": form_error,
        },
        status=400 if form_error else 200,
    )
