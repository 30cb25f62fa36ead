"""The API's error format: {"error": {"code", "message", "fields"}}, mapped once for every view."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shared_apps.common.errors import DomainError
from shared_apps.common.parsers import BodyNotAnObject

# DRF exception class → (stable code, French message); subclasses before their parents.
_DRF_ERRORS: dict[type, tuple[str, str]] = {
    BodyNotAnObject: ("body_not_an_object", "Le corps de la requête doit être un objet JSON."),
    exceptions.ValidationError: ("invalid", "Certaines informations ne sont pas valides."),
    exceptions.ParseError: ("parse_error", "Le corps de la requête est illisible."),
    exceptions.NotAuthenticated: ("not_authenticated", "Vous devez être connecté."),
    exceptions.AuthenticationFailed: ("authentication_failed", "Identifiants invalides."),
    exceptions.PermissionDenied: ("permission_denied", "Vous n’avez pas accès à cette action."),
    exceptions.NotFound: ("not_found", "Introuvable."),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Méthode non autorisée."),
    exceptions.NotAcceptable: ("not_acceptable", "Format de réponse non disponible."),
    exceptions.UnsupportedMediaType: (
        "unsupported_media_type",
        "Format de requête non pris en charge.",
    ),
    exceptions.Throttled: ("throttled", "Trop de tentatives. Réessayez plus tard."),
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _as_field_errors(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            key: [str(m) for m in (value if isinstance(value, list) else [value])]
            if not isinstance(value, dict)
            else [str(value)]
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {"non_field_errors": [str(detail)]}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let it surface as a 500 and be logged
    code, message = "error", "La demande n’a pas pu aboutir."
    for cls in type(exc).__mro__:
        if cls in _DRF_ERRORS:
            code, message = _DRF_ERRORS[cls]
            break
    # A subclass may name its own stable code (e.g. an expired API token: `token_expired`).
    code, message = getattr(exc, "stable_error", (code, message))
    fields = {}
    if isinstance(exc, exceptions.ValidationError):
        fields = _as_field_errors(exc.detail)
    elif isinstance(exc, exceptions.Throttled) and exc.wait:
        message = f"Trop de tentatives. Réessayez dans {int(exc.wait) + 1} secondes."
    response.data = error_body(code, message, fields)
    return response
