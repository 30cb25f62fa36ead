"""The commune's staff (managers only): the team, invitations, roles; and joining by a link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shared_apps.common.client_ip import client_ip
from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from shared_apps.common.validation import parse_id
from tenant_apps.backoffice import services_staff
from tenant_apps.backoffice.forms_staff import ChangeRoleForm, InviteStaffForm
from tenants.models import Membership, Role
from tenants.permissions import staff_required
from tenants.selectors import pending_staff_invitations, staff_of
from tenants.urls import commune_reverse

manager_required = staff_required(manager=True)


def _staff_url(request: HttpRequest) -> str:
    return commune_reverse(request.tenant, "backoffice-staff")


def _render_team(request: HttpRequest, form: InviteStaffForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "backoffice/staff.html",
        {
            "members": list(staff_of(request.tenant)),
            "invitations": list(pending_staff_invitations(request.tenant)),
            "form": form,
            "roles": Role.choices,
            "is_manager": True,
        },
        status=status,
    )


@manager_required
def team(request: HttpRequest) -> HttpResponse:
    """The team with roles, pending invitations, and the invitation form (POST invites)."""
    form = InviteStaffForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation, _ = services_staff.invite_staff(
                    commune=request.tenant,
                    invited_by=request.user,
                    client_ip=client_ip(request),
                    **form.cleaned_data,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Invitation envoyée à {invitation.email} : le lien est valable 7 jours.",
                )
                return redirect(_staff_url(request))
        return _render_team(request, form, status=400)
    return _render_team(request, form)


def _member_or_404(request: HttpRequest, membership_id: int) -> Membership:
    membership = (
        Membership.objects.filter(pk=parse_id(membership_id) or 0, commune=request.tenant)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404("Membre de l’équipe introuvable.")
    return membership


@manager_required
@require_POST
def change_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _member_or_404(request, membership_id)
    form = ChangeRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez un rôle : agent ou responsable.")
        return redirect(_staff_url(request))
    try:
        services_staff.change_staff_role(
            commune=request.tenant,
            changed_by=request.user,
            membership_id=membership.pk,
            role=form.cleaned_data["role"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        label = dict(Role.choices)[form.cleaned_data["role"]].lower()
        messages.success(request, f"{membership.user.get_full_name()} est maintenant {label}.")
    return redirect(_staff_url(request))


@manager_required
def remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    """GET asks for confirmation, POST takes the person off this commune's staff."""
    membership = _member_or_404(request, membership_id)
    error = None
    if request.method == "POST":
        try:
            services_staff.remove_staff_member(
                commune=request.tenant, removed_by=request.user, membership_id=membership.pk
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"{membership.user.get_full_name() or membership.user.email} ne fait plus partie "
                "de l’équipe.",
            )
            if membership.user_id == request.user.pk:
                return redirect(commune_reverse(request.tenant, "commune-home"))
            return redirect(_staff_url(request))
    return render(
        request,
        "backoffice/staff_remove.html",
        {"member": membership, "error": error, "is_manager": True},
        status=409 if error else 200,
    )


@manager_required
@require_POST
def cancel_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        services_staff.cancel_staff_invitation(
            commune=request.tenant,
            cancelled_by=request.user,
            invitation_id=parse_id(invitation_id) or 0,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "Invitation annulée : son lien ne fonctionne plus.")
    return redirect(_staff_url(request))


@login_required
def join(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: who invites, to which role; POST accepts (signed in as the invitee).

    Someone without an account is sent to sign up by the login page and comes back here.
    """
    invitation = services_staff.invitation_for_token(commune=request.tenant, token=token)
    if invitation is None:
        return render(
            request,
            "accounts/link_invalid.html",
            {"message": services_staff.InvalidStaffInvitation.message},
            status=400,
        )
    error, status = None, 200
    if request.method == "POST":
        try:
            services_staff.accept_staff_invitation(
                commune=request.tenant, user=request.user, token=token
            )
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, f"Bienvenue dans l’équipe de {request.tenant.name} !")
            return redirect(commune_reverse(request.tenant, "backoffice-home"))
    return render(
        request,
        "backoffice/staff_join.html",
        {
            "invitation": invitation,
            "error": error,
            "wrong_account": invitation.email.lower() != request.user.email.lower(),
        },
        status=status,
    )
