"""Account pages: "Créer ou accéder à mon compte usager" (e-mail first), sign-up, reset, profile."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from shared_apps.accounts import services
from shared_apps.accounts.forms import (
    ChangePasswordForm,
    EmailStepForm,
    ForgotPasswordForm,
    NewPasswordForm,
    PasswordStepForm,
    ProfileForm,
    RegisterForm,
)
from shared_apps.accounts.landing import gestion_url, landing_url, places_of
from shared_apps.accounts.models import User
from shared_apps.common.api import error_body
from shared_apps.common.client_ip import client_ip
from shared_apps.common.errors import DomainError
from shared_apps.common.forms import add_domain_error
from shared_apps.common.ratelimit import too_many
from shared_apps.jobs.selectors import wants_booking_reminders


def _safe_next(request: HttpRequest) -> str | None:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path of ours: redirect() would take a bare word for a URL name (and fail with 500).
    if (
        candidate.startswith("/")
        and not candidate.startswith("//")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return None


def _next_url(request: HttpRequest) -> str:
    return _safe_next(request) or resolve_url(settings.LOGIN_REDIRECT_URL)


def _landing(request: HttpRequest, user: User) -> str:
    """After signing in: the safe `next` if given, else the person's place (landing.py)."""
    return _safe_next(request) or landing_url(user)


def _with_next(url: str, request: HttpRequest, **params) -> str:
    nxt = request.POST.get("next") or request.GET.get("next")
    if nxt:
        params["next"] = nxt
    return f"{url}?{urlencode(params)}" if params else url


def _throttled(request: HttpRequest) -> HttpResponse | None:
    """Account forms answer at most 30 posts a minute per client address (like the API's "auth")."""
    if request.method == "POST" and too_many(
        "account-pages",
        client_ip(request),
        limit=settings.ACCOUNT_FORM_POSTS_PER_MINUTE,
        window_seconds=60,
    ):
        return render(
            request,
            "accounts/locked_out.html",
            {"message": "Trop de demandes depuis votre connexion. Réessayez dans une minute."},
            status=429,
        )
    return None


def start(request: HttpRequest) -> HttpResponse:
    """Step 1 of the guide: the e-mail decides between sign-up and password."""
    if throttled := _throttled(request):
        return throttled
    if request.user.is_authenticated:
        return redirect(_landing(request, request.user))
    form = EmailStepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = services.normalize_email(form.cleaned_data["email"])
        target = (
            "accounts:password"
            if User.objects.filter(email=email).exists()
            else "accounts:register"
        )
        return redirect(_with_next(reverse(target), request, email=email))
    return render(
        request, "accounts/start.html", {"form": form, "next": request.GET.get("next", "")}
    )


def password_step(request: HttpRequest) -> HttpResponse:
    if throttled := _throttled(request):
        return throttled
    email = request.POST.get("email") or request.GET.get("email") or ""
    if not email and request.method == "GET":
        return redirect("accounts:login")
    form = PasswordStepForm(request.POST or None, initial={"email": email})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.authenticate_user(
                request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            login(request, user)  # rotates the session key
            messages.success(request, f"Bonjour {user.get_short_name()} !")
            return redirect(_landing(request, user))
    return render(
        request,
        "accounts/password.html",
        {
            "form": form,
            "email": email,
            "next": request.GET.get("next") or request.POST.get("next", ""),
        },
    )


def register(request: HttpRequest) -> HttpResponse:
    if throttled := _throttled(request):
        return throttled
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = RegisterForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.register_user(**form.cleaned_data, client_ip=client_ip(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Votre compte est créé. Un e-mail de confirmation a été envoyé à {user.email}.",
            )
            nxt = request.POST.get("next") or request.GET.get("next")
            return redirect(_next_url(request) if nxt else reverse("families:children"))
    return render(
        request,
        "accounts/register.html",
        {"form": form, "next": request.GET.get("next") or request.POST.get("next", "")},
    )


def verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.verify_email(token=token)
    except DomainError as exc:
        return render(request, "accounts/link_invalid.html", {"message": exc.message}, status=400)
    messages.success(request, "Votre adresse e-mail est confirmée. Merci !")
    return redirect("accounts:profile" if request.user.is_authenticated else "accounts:login")


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    try:
        sent = services.resend_verification_email(user=request.user, client_ip=client_ip(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if sent:
            messages.success(
                request, f"Un nouvel e-mail de confirmation a été envoyé à {request.user.email}."
            )
        else:
            messages.info(request, "Votre adresse e-mail est déjà confirmée.")
    return redirect("accounts:profile")


def forgot_password(request: HttpRequest) -> HttpResponse:
    if throttled := _throttled(request):
        return throttled
    form = ForgotPasswordForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.request_password_reset(
                email=form.cleaned_data["email"], client_ip=client_ip(request)
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            return render(
                request, "accounts/forgot_sent.html", {"email": form.cleaned_data["email"]}
            )
    return render(request, "accounts/forgot.html", {"form": form}, status=status)


def reset_password(request: HttpRequest, token: str) -> HttpResponse:
    from shared_apps.accounts.tokens import password_reset_tokens, user_for_link_token

    if user_for_link_token(token, password_reset_tokens) is None:
        return render(
            request,
            "accounts/link_invalid.html",
            {"message": services.InvalidLink.message, "retry_reset": True},
            status=400,
        )
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_password(token=token, password=form.cleaned_data["password"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Votre mot de passe est changé. Vous pouvez vous connecter.")
            return redirect("accounts:login")
    return render(request, "accounts/reset.html", {"form": form})


@login_required
def spaces(request: HttpRequest) -> HttpResponse:
    """ "Où voulez-vous aller ?": each commune's Gestion and the family space."""
    places = places_of(request.user)
    return render(
        request,
        "accounts/spaces.html",
        {
            "communes": [(commune, gestion_url(commune)) for commune in places.communes],
            "family": places.family or not places.communes,
        },
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    form = ProfileForm(
        request.POST or None,
        initial={
            **{f: getattr(user, f) for f in ("first_name", "last_name", "phone", "address")},
            "booking_reminders": wants_booking_reminders(user),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(user=user, data=form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Vos informations sont enregistrées.")
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@login_required
def change_password(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            update_session_auth_hash(request, request.user)  # stay logged in here, not elsewhere
            messages.success(request, "Votre mot de passe est changé.")
            return redirect("accounts:profile")
    return render(request, "accounts/change_password.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, "Vous êtes déconnecté.")
    return redirect("home")


def locked_out(request: HttpRequest, credentials=None, *args, **kwargs) -> HttpResponse:
    """django-axes calls this when an account or address is locked out."""
    message = services.LockedOut.message
    if "/api/" in request.path_info:
        return JsonResponse(error_body(services.LockedOut.code, message), status=429)
    return render(request, "accounts/locked_out.html", {"message": message}, status=429)
