"""The régie's pages: the daily cash journal, closing a day, receipts (PDF) and the
accountant's exports (managers)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from shared_apps.common.errors import DomainError
from shared_apps.common.exports import csv_response, pdf_bytes, xlsx_response
from shared_apps.common.money import format_euros
from shared_apps.common.validation import InvalidInput, date_param, parse_id
from tenant_apps.backoffice import selectors, services
from tenant_apps.backoffice.models import PaymentMethod
from tenants.models import Role
from tenants.permissions import staff_required, staff_role

EXPORT_TABLES = ("paiements", "remboursements", "mouvements", "recettes")
MAX_EXPORT_DAYS = 366


def _journal_url(request: HttpRequest, day: datetime.date) -> str:
    url = reverse("backoffice-cash-journal", kwargs={"commune_slug": request.tenant.slug})
    return f"{url}?jour={day.isoformat()}"


@staff_required
def cash_journal(request: HttpRequest) -> HttpResponse:
    """The day's journal (?jour=AAAA-MM-JJ, today by default): each payment with its receipt,
    each agent's takings per method, the totals, the closings and the buttons to close."""
    today = timezone.localdate()
    error = None
    try:
        day = date_param(request.GET, "jour", required=False) or today
    except InvalidInput as exc:
        error = " ".join(exc.fields.get("jour", [exc.message]))
        day = today
    journal = selectors.cash_journal(day)
    services.record_cash_view(
        viewed_by=request.user, commune=request.tenant, what="journal", target=day.isoformat()
    )
    is_manager = staff_role(request) == Role.MANAGER
    own = next((a for a in journal.agents if a.agent_id == request.user.pk), None)
    return render(
        request,
        "backoffice/cash_journal.html",
        {
            "journal": journal,
            "day": day,
            "today": today,
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1) if day < today else None,
            "date_error": error,
            "is_manager": is_manager,
            "methods": PaymentMethod.choices,
            "own_closing": journal.closing_for(request.user.pk),
            "own_takings": own,
            "can_close": day <= today,
        },
    )


@staff_required
@require_POST
def close_day(request: HttpRequest) -> HttpResponse:
    """Close a day: `jour` and `agent` (an agent's id; "tous" for the whole régie, managers)."""
    try:
        day = date_param(request.POST, "jour")
    except InvalidInput as exc:
        messages.error(request, " ".join(exc.fields.get("jour", [exc.message])))
        return redirect(
            reverse("backoffice-cash-journal", kwargs={"commune_slug": request.tenant.slug})
        )
    assert day is not None  # required
    raw_agent = request.POST.get("agent", "")
    agent_id = None if raw_agent == "tous" else parse_id(raw_agent)
    if agent_id is None and raw_agent != "tous":
        messages.error(request, "Choisissez la caisse à clôturer.")
        return redirect(_journal_url(request, day))
    try:
        closing = services.close_day(
            commune=request.tenant,
            closed_by=request.user,
            is_manager=staff_role(request) == Role.MANAGER,
            day=day,
            agent_id=agent_id,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        whose = closing.agent_name or "toute la régie"
        messages.success(
            request,
            f"Journée du {day:%d/%m/%Y} clôturée ({whose}) : {closing.payments_count} "
            f"versement{'s' if closing.payments_count > 1 else ''}, "
            f"{format_euros(closing.total_cents)}.",
        )
    return redirect(_journal_url(request, day))


@staff_required
def receipt_pdf(request: HttpRequest, receipt_id: int) -> HttpResponse:
    """The receipt as a PDF, opened in the browser to print or save; audited."""
    receipt = selectors.receipt_for_staff(receipt_id)
    if receipt is None:
        raise Http404("Reçu introuvable.")
    services.record_cash_view(
        viewed_by=request.user, commune=request.tenant, what="receipt", target=receipt.pk
    )
    return receipt_response(request, receipt)


def receipt_response(request, receipt) -> HttpResponse:
    """The PDF of a receipt, inline (the browser's viewer prints it), never cached."""
    data = pdf_bytes(
        "backoffice_money/receipt_pdf.html",
        {
            "receipt": receipt,
            "commune": request.tenant,
            "method_label": PaymentMethod(receipt.method).label,
            "created_at": timezone.localtime(receipt.created_at),
        },
        request,
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="recu-{receipt.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required(manager=True)
def cash_exports(request: HttpRequest) -> HttpResponse:
    """The accountant's exports for a period (?du=&au=): the form, the totals, and the files
    (?format=xlsx: every table; ?format=csv&tableau=<one of EXPORT_TABLES>)."""
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    start = today.replace(day=1)
    end = today
    accounting = None
    if "du" in request.GET or "au" in request.GET:
        try:
            start = date_param(request.GET, "du") or start
        except InvalidInput as exc:
            errors.update(exc.fields)
        try:
            end = date_param(request.GET, "au") or end
        except InvalidInput as exc:
            errors.update(exc.fields)
        if not errors and end < start:
            errors["au"] = ["La fin de la période précède son début."]
        if not errors and (end - start).days >= MAX_EXPORT_DAYS:
            errors["au"] = ["Une période d’un an au plus."]
        if not errors:
            accounting = selectors.accounting(commune_id=request.tenant.pk, start=start, end=end)
            name = f"regie-{request.tenant.slug}-{start:%Y%m%d}-{end:%Y%m%d}"
            wanted = request.GET.get("format")
            table = request.GET.get("tableau", "")
            if wanted == "csv" and table not in EXPORT_TABLES:
                errors["tableau"] = ["Tableau : paiements, remboursements, mouvements ou recettes."]
            else:
                # Families' names and payments: audited like the journal and the receipts.
                output = wanted if wanted in ("xlsx", "csv") else "page"
                services.record_cash_view(
                    viewed_by=request.user,
                    commune=request.tenant,
                    what="export",
                    target=f"{start.isoformat()}/{end.isoformat()}",
                    details={"output": output, **({"table": table} if output == "csv" else {})},
                )
            if wanted == "xlsx":
                return xlsx_response(f"{name}.xlsx", list(accounting.sheets.values()))
            if wanted == "csv" and table in EXPORT_TABLES:
                return csv_response(f"{name}-{table}.csv", accounting.sheets[table])
    return render(
        request,
        "backoffice/cash_exports.html",
        {
            "start": start,
            "end": end,
            "errors": errors,
            "accounting": accounting,
            "tables": [
                ("paiements", "Paiements"),
                ("remboursements", "Remboursements"),
                ("mouvements", "Mouvements des porte-monnaie"),
                ("recettes", "Recettes par service"),
            ],
        },
        status=400 if errors else 200,
    )
