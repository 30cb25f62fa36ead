"""Family pages: "Mes filiations" (children), invitations of a second guardian, consent for
the communes' staff to book on the family's behalf."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from shared_apps.common.client_ip import client_ip
from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from shared_apps.families import services
from shared_apps.families.forms import ChildForm, InvitationForm
from shared_apps.families.selectors import (
    child_of,
    children_of,
    commune_links_of,
    family_id_of,
    family_of,
    guardians_of,
)


@login_required
def children(request: HttpRequest) -> HttpResponse:
    form = ChildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            child = services.add_child(user=request.user, data=form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{child.first_name} est enregistré·e dans votre famille.")
            return redirect("families:children")
    family = family_of(request.user)
    return render(
        request,
        "families/children.html",
        {
            "form": form,
            "children": children_of(request.user),
            "guardians": guardians_of(family) if family else [],
        },
    )


@login_required
def edit_child(request: HttpRequest, child_id: int) -> HttpResponse:
    child = child_of(request.user, child_id)
    if child is None:
        raise Http404
    initial = {
        "last_name": child.last_name,
        "first_name": child.first_name,
        "birth_date": child.birth_date,
        "relation": child.relation or "",
        "school_class": child.school_class,
        "notes": child.notes,
    }
    form = ChildForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_child(user=request.user, child_id=child.pk, data=form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Les informations de l’enfant sont enregistrées.")
            return redirect("families:children")
    return render(request, "families/edit_child.html", {"form": form, "child": child})


@login_required
def remove_child(request: HttpRequest, child_id: int) -> HttpResponse:
    child = child_of(request.user, child_id)
    if child is None:
        raise Http404
    if request.method == "POST":
        services.remove_child(user=request.user, child_id=child.pk, cancel_bookings=True)
        messages.success(request, f"{child.first_name} a été retiré·e de votre famille.")
        return redirect("families:children")
    upcoming = services.upcoming_bookings_of_child(user=request.user, child=child)
    return render(request, "families/remove_child.html", {"child": child, "upcoming": upcoming})


@login_required
def invite(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _ = services.invite_guardian(
                user=request.user, email=form.cleaned_data["email"], client_ip=client_ip(request)
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status if exc.status == 429 else 200
        else:
            messages.success(request, f"Invitation envoyée à {invitation.email}.")
            return redirect("families:children")
    return render(request, "families/invite.html", {"form": form}, status=status)


@login_required
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(
            request,
            "accounts/link_invalid.html",
            {"message": services.InvalidInvitation.message},
            status=400,
        )
    error = None
    if request.method == "POST":
        try:
            services.accept_invitation(user=request.user, token=token)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "Vous avez rejoint la famille.")
            return redirect("families:children")
    return render(
        request,
        "families/accept_invitation.html",
        {"invitation": invitation, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_POST
def reset_calendar_feed(request: HttpRequest) -> HttpResponse:
    """A new secret address for the family's calendar feed; the old one stops working."""
    services.reset_calendar_feed_token(user=request.user)
    messages.success(
        request,
        "Nouvelle adresse d’abonnement créée : l’ancienne ne fonctionne plus. Abonnez de nouveau "
        "vos agendas avec celle-ci.",
    )
    return redirect(reverse("reservations-everywhere") + "#calendrier")


@login_required
def booking_consents(request: HttpRequest) -> HttpResponse:
    """ "Réservations par la mairie": per commune the family deals with, a guardian gives or
    revokes standing consent for its staff to book on the family's behalf (paid from the
    wallet). POST `commune_id` and `consent` ("1" to give, "0" to revoke)."""
    if request.method == "POST":
        given = request.POST.get("consent") == "1"
        try:
            link = services.set_booking_consent(
                user=request.user, commune_id=request.POST.get("commune_id", ""), given=given
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            name = link.commune.name
            messages.success(
                request,
                f"Accord donné à la mairie de {name}."
                if given
                else f"Accord retiré : la mairie de {name} devra vous demander avant de réserver.",
            )
        return redirect("families:booking-consents")
    return render(
        request,
        "families/booking_consents.html",
        {"links": commune_links_of(family_id_of(request.user))},
    )
