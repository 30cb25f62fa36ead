"""The family's page for a sick child's absence: send the medical certificate (the commune's
sick rule then refunds the day, once), see and open the ones sent. The use case is
services.attendance.upload_certificate; staff have theirs in the back-office ("Pointage")."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin

from shared_apps.common.errors import DomainError
from shared_apps.families.selectors import family_id_of
from tenant_apps.bookings.models import MedicalCertificate, Reservation
from tenant_apps.bookings.rules import day_label
from tenant_apps.bookings.services.attendance import upload_certificate


def _own_reservation(request: HttpRequest, reservation_id: int) -> Reservation:
    family_id = family_id_of(request.user)
    reservation = (
        Reservation.objects.select_related("child", "product")
        .filter(pk=reservation_id, family_id=family_id)  # no family: no row
        .first()
        if family_id is not None
        else None
    )
    if reservation is None:
        raise Http404("Réservation introuvable.")
    return reservation


@login_required
def certificate(request: HttpRequest, reservation_id: int) -> HttpResponse:
    """ "Certificat médical" of one of the family's reservations."""
    reservation = _own_reservation(request, reservation_id)
    error = ""
    if request.method == "POST":
        try:
            upload_certificate(
                commune=request.tenant,
                user=request.user,
                reservation_id=reservation.pk,
                upload=request.FILES.get("file"),  # type: ignore[arg-type]
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "Certificat médical envoyé à la mairie.")
            return redirect(request.path)
    return render(
        request,
        "bookings/certificate.html",
        {
            "reservation": reservation,
            "certificates": list(reservation.certificates.all()),
            "error": error,
            "day_text": day_label(reservation.date),
            "mine_url": reverse("bookings-mine", kwargs={"commune_slug": request.tenant.slug}),
        },
    )


@login_required
@xframe_options_sameorigin
def certificate_file(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """A certificate the family sent (or an agent recorded for it); 404 for anyone else's."""
    family_id = family_id_of(request.user)
    found = (
        MedicalCertificate.objects.filter(
            pk=certificate_id, reservation__family_id=family_id
        ).first()
        if family_id is not None
        else None
    )
    if found is None:
        raise Http404("Certificat introuvable.")
    response = FileResponse(
        found.file.open("rb"),
        content_type=found.content_type,
        filename=f"certificat-medical.{found.extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
