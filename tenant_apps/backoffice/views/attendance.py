"""Staff pages of attendance ("Pointage"), made for a phone: the day's list of a product, one tap
per child (Présent / Absent), children who came unbooked added on the spot, and the medical
certificate of an absence. Every tap is a real form submission (no JavaScript needed); the use
cases are in tenant_apps.bookings.services.attendance."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin

from shared_apps.audit.services import record
from shared_apps.common.errors import DomainError
from shared_apps.common.french import accord, accord_euros
from shared_apps.common.money import format_euros
from shared_apps.common.validation import parse_date, parse_int
from tenant_apps.bookings import attendance_selectors as selectors
from tenant_apps.bookings.models import MedicalCertificate, Reservation, ReservationStatus
from tenant_apps.bookings.rules import day_label
from tenant_apps.bookings.services.attendance import (
    AttendanceResult,
    mark_attendance,
    unbooked_price_cents,
    upload_certificate,
)
from tenant_apps.catalog.models import UnbookedPresence
from tenants.permissions import staff_required

ACTIONS = {"present", "absent", "add"}


def _page_url(request: HttpRequest, day: datetime.date, product_id: int, **extra) -> str:
    query = {"jour": day.isoformat(), "produit": product_id, **extra}
    return f"{request.path}?{urlencode(query)}"


def _money_sentence(result: AttendanceResult) -> str:
    parts = []
    if result.refunded_cents:
        parts.append(
            f"{format_euros(result.refunded_cents)} "
            f"{accord_euros(result.refunded_cents, 'remboursé')} sur le porte-monnaie"
        )
    if result.taken_back_cents:
        parts.append(f"{format_euros(result.taken_back_cents)} repris sur le porte-monnaie")
    if result.billed_cents:
        parts.append(
            f"{format_euros(result.billed_cents)} "
            f"{accord_euros(result.billed_cents, 'payé')} par le porte-monnaie"
        )
    if result.to_invoice_cents > 0:
        parts.append(f"{format_euros(result.to_invoice_cents)} à la prochaine facture")
    if result.to_invoice_cents < 0:
        parts.append(
            f"{format_euros(-result.to_invoice_cents)} "
            f"{accord_euros(-result.to_invoice_cents, 'retiré')} de la facture"
        )
    if result.off_invoice_cents > 0:
        parts.append(
            f"{format_euros(result.off_invoice_cents)} "
            f"{accord_euros(result.off_invoice_cents, 'déduit')} de la facture"
        )
    if result.off_invoice_cents < 0:
        parts.append(
            f"{format_euros(-result.off_invoice_cents)} de nouveau "
            f"{accord_euros(-result.off_invoice_cents, 'facturé')}"
        )
    return (" — " + " ; ".join(parts) + ".") if parts else ""


@staff_required
def attendance(request: HttpRequest) -> HttpResponse:
    """ "Pointage": choose the day (today by default) and the product; tap Présent or Absent for
    each child; add a child who came unbooked (when the product's rule accepts it)."""
    source = request.POST if request.method == "POST" else request.GET
    today = timezone.localdate()
    raw_day = source.get("jour", "")
    day = parse_date(raw_day) if raw_day else today
    day_error = ""
    if day is None:
        day, day_error = today, "Jour invalide : voici le pointage d’aujourd’hui."
    products = selectors.products_for_attendance()
    if not products:
        return render(request, "backoffice/attendance.html", {"products": [], "day": day})
    raw_product = source.get("produit")
    if raw_product:
        product_id = parse_int(raw_product)
        product = next((p for p in products if p.pk == product_id), None)
        if product is None:
            raise Http404("Produit introuvable.")
    else:
        product = products[0]

    if request.method == "POST":
        # A tap names its day and its product: never mark today's list, or the first
        # product's, in place of what the form did not say.
        if day_error or not raw_product:
            messages.error(
                request,
                "Jour invalide : rien n’a été pointé."
                if day_error
                else "Choisissez la prestation : rien n’a été pointé.",
            )
            return redirect(_page_url(request, day, product.pk))
        return _mark(request, day, product)

    rows = selectors.day_sheet(product, day)
    record(
        actor=request.user,
        commune=request.tenant,
        action="attendance.view",
        target_type="product_day",
        target_id=f"{product.pk}:{day.isoformat()}",
        details={"children": len(rows)},
    )
    query = (request.GET.get("q") or "").strip()[:60]
    accepts_unbooked = product.unbooked_presence == UnbookedPresence.BILLED
    found = (
        selectors.addable_children(product, day, query) if accepts_unbooked and day <= today else []
    )
    counts = _counts(rows)
    return render(
        request,
        "backoffice/attendance.html",
        {
            "products": products,
            "product": product,
            "day": day,
            "day_text": day_label(day),
            "today": today,
            "is_today": day == today,
            "future": day > today,
            "day_error": day_error,
            "rows": rows,
            "counts": counts,
            "query": query,
            "found": found,
            "accepts_unbooked": accepts_unbooked,
            "unbooked_price": unbooked_price_cents(product),
            "previous": day - datetime.timedelta(days=1),
            "following": day + datetime.timedelta(days=1),
        },
    )


def _counts(rows: list[selectors.SheetRow]) -> dict[str, int]:
    return {
        "total": len(rows),
        "present": sum(r.status == ReservationStatus.ATTENDED for r in rows),
        "absent": sum(r.status == ReservationStatus.ABSENT for r in rows),
        "pending": sum(r.status == ReservationStatus.BOOKED for r in rows),
    }


def _fetch_reply(
    request: HttpRequest,
    day: datetime.date,
    product,
    child_id: int,
    message: str,
    *,
    level: str,
    status: int = 200,
) -> JsonResponse:
    """The answer to a tap sent in the background: the child's row and the day's counts as the
    page would show them, and the sentence to announce."""
    rows = selectors.day_sheet(product, day)
    row = next((r for r in rows if r.child_id == child_id), None)
    context = {"future": day > timezone.localdate(), "counts": _counts(rows)}
    return JsonResponse(
        {
            "child": child_id,
            "level": level,
            "message": message,
            "row": render_to_string(
                "backoffice/attendance_row.html", {**context, "row": row}, request=request
            )
            if row
            else "",
            "counts": render_to_string(
                "backoffice/attendance_counts.html", context, request=request
            ),
        },
        status=status,
    )


def _mark(request: HttpRequest, day: datetime.date, product) -> HttpResponse:
    """One tap: `action` = "present:<child id>", "absent:<child id>", "add:<child id>" or
    "all_present" (every child not yet marked)."""
    action = request.POST.get("action", "")
    kind, _, raw_child = action.partition(":")
    child_id = parse_int(raw_child)
    back = _page_url(request, day, product.pk)
    # A tap sent in the background by the page's script (present/absent only).
    fetched = request.headers.get("X-Requested-With") == "fetch" and kind in ("present", "absent")
    present: list[int] = []
    absent: list[int] = []
    added: list[int] = []
    if action == "all_present":
        present = [
            r.child_id
            for r in selectors.day_sheet(product, day)
            if r.status == ReservationStatus.BOOKED
        ]
    elif kind in ACTIONS and child_id is not None and child_id > 0:
        {"present": present, "absent": absent, "add": added}[kind].append(child_id)
    else:
        messages.error(request, "Action inconnue : touchez « Présent » ou « Absent ».")
        return redirect(back)
    try:
        result = mark_attendance(
            commune=request.tenant,
            staff_user=request.user,
            day=day,
            product_id=product.pk,
            present=present,
            absent=absent,
            added=added,
        )
    except DomainError as exc:
        if fetched and child_id:
            return _fetch_reply(
                request, day, product, child_id, exc.message, level="error", status=exc.status
            )
        # The top of the page, where the message is: a refusal must be seen.
        messages.error(request, exc.message)
        return redirect(back)
    if action == "all_present":
        marked = accord(result.updated, "enfant pointé présent", "enfants pointés présents")
        messages.success(request, f"{result.updated} {marked}.")
        return redirect(back)
    if kind == "add":
        done = "ajouté(e), présent(e)"
    elif not result.updated:
        done = "déjà pointé(e) ainsi, rien n’a changé"
    else:
        done = "présent(e)" if kind == "present" else "absent(e)"
    sentence = f"Enfant {done}{_money_sentence(result)}"
    if fetched and child_id:
        return _fetch_reply(request, day, product, child_id, sentence, level="success")
    messages.success(request, sentence)
    return redirect(back + f"#enfant-{child_id}")


def _reservation_or_404(reservation_id: int) -> Reservation:
    reservation = (
        Reservation.objects.select_related("child", "product").filter(pk=reservation_id).first()
    )
    if reservation is None:
        raise Http404("Réservation introuvable.")
    return reservation


@staff_required
def certificate(request: HttpRequest, reservation_id: int) -> HttpResponse:
    """The medical certificate of one child's absence: see the ones received, upload one (the
    product's sick rule then refunds the day, once)."""
    reservation = _reservation_or_404(reservation_id)
    error = ""
    if request.method == "POST":
        try:
            upload_certificate(
                commune=request.tenant,
                user=request.user,
                reservation_id=reservation.pk,
                upload=request.FILES.get("file"),  # type: ignore[arg-type]
                staff=True,
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "Certificat médical enregistré.")
            return redirect(request.path)
    record(
        actor=request.user,
        commune=request.tenant,
        action="attendance.certificate_view",
        target_type="reservation",
        target_id=reservation.pk,
        family_id=reservation.family_id,
    )
    return render(
        request,
        "backoffice/attendance_certificate.html",
        {
            "reservation": reservation,
            "certificates": selectors.certificates_of(reservation.pk),
            "error": error,
            "day_text": day_label(reservation.date),
            "back": f"{_attendance_path(request)}?"
            + urlencode({"jour": reservation.date.isoformat(), "produit": reservation.product_id})
            + f"#enfant-{reservation.child_id}",
        },
    )


def _attendance_path(request: HttpRequest) -> str:
    from django.urls import reverse

    return reverse("backoffice-attendance", kwargs={"commune_slug": request.tenant.slug})


def certificate_response(certificate: MedicalCertificate) -> FileResponse:
    response = FileResponse(
        certificate.file.open("rb"),
        content_type=certificate.content_type,
        as_attachment=False,
        filename=f"certificat-medical.{certificate.extension}",
    )
    # The type was checked by content at upload; nosniff makes the browser trust only that.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
@xframe_options_sameorigin
def certificate_file(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """A certificate's file, for staff of this commune; each opening is audited."""
    found = MedicalCertificate.objects.select_related("reservation").filter(pk=certificate_id)
    certificate = found.first()
    if certificate is None:
        raise Http404("Certificat introuvable.")
    record(
        actor=request.user,
        commune=request.tenant,
        action="attendance.certificate_file",
        target_type="medical_certificate",
        target_id=certificate.pk,
        family_id=certificate.reservation.family_id,
    )
    return certificate_response(certificate)
