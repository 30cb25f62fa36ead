"""Pages shared by the whole platform: errors, health probes and metrics."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render

from shared_apps.common import health, observability
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
    """Liveness: the process answers. Touches nothing else (a database outage must not get
    every web process restarted); readiness is /readyz."""
    return JsonResponse({"status": "ok", "service": "marelle"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, broker (when configured) and migrations (shared_apps.common.health);
    200 when all pass, 503 otherwise, with each check's outcome."""
    result = health.readiness()
    return JsonResponse(
        {"status": "ok" if result.ready else "unavailable", "checks": result.checks},
        status=200 if result.ready else 503,
        headers={"Cache-Control": "no-store"},
    )


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for the internal network or the holder of METRICS_TOKEN only."""
    if not observability.metrics_allowed(request):
        return JsonResponse(
            error_body("permission_denied", "Vous n’avez pas accès à cette page."), status=403
        )
    from prometheus_client import CONTENT_TYPE_LATEST

    return HttpResponse(observability.metrics_text(), content_type=CONTENT_TYPE_LATEST)
