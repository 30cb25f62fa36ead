"""Pages shared by the whole platform: errors and health."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render

from shared_apps.common.api import error_body


def _wants_json(request: HttpRequest) -> bool:
    return "/api/" in request.path_info or request.headers.get("Accept", "").startswith(
        "application/json"
    )


def not_found(request: HttpRequest, exception=None, *, unknown_commune: str | None = None):
    if _wants_json(request):
        return JsonResponse(
            error_body("not_found", "Cette adresse ne correspond à rien sur Marelle."), status=404
        )
    return render(request, "404.html", {"unknown_commune": unknown_commune}, status=404)


def bad_address(request: HttpRequest) -> HttpResponse:
    """An address that cannot be a real one (a NUL byte in its path or query): 400."""
    if _wants_json(request):
        return JsonResponse(
            error_body("bad_address", "Cette adresse n’est pas valide."), status=400
        )
    return HttpResponseBadRequest("Adresse invalide.", content_type="text/plain; charset=utf-8")


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body("server_error", "Une erreur est survenue de notre côté. Réessayez."),
            status=500,
        )
    return render(request, "500.html", status=500)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body("permission_denied", "Vous n’avez pas accès à cette page."), status=403
        )
    return render(request, "403.html", status=403)


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "service": "marelle"})
