"""Security headers on every answer (issue 15): the Content-Security-Policy and no caching of
anything personal.

- `ContentSecurityPolicyMiddleware`: django-csp's middleware, the policy of
  `settings.CONTENT_SECURITY_POLICY` plus the card provider's origins, read from the settings at
  each request (Stripe in production, the embedded localstripe in the demo and the tests): its
  script (`STRIPE_JS_URL`), the frames it opens and the API it calls (`STRIPE_API_BASE`).
  Scripts come from our static files or carry the request's nonce; no inline script or handler.
- `NoStoreMiddleware`: `Cache-Control: private, no-store` on every API answer and on every answer
  to someone who may be signed in (a session cookie or an `Authorization` header), so no shared
  cache and no browser history keeps a family's data. Decided without touching the database.
  Static files keep WhiteNoise's caching.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.constants import NONE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

NO_STORE = "private, no-store"
# Stripe.js opens these frames and calls this API (Stripe's security guide, CSP section).
STRIPE_SCRIPTS = ("https://js.stripe.com", "https://*.js.stripe.com")
STRIPE_FRAMES = (*STRIPE_SCRIPTS, "https://hooks.stripe.com")
STRIPE_CONNECT = ("https://api.stripe.com",)


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def card_provider_sources() -> dict[str, list[str]]:
    """The CSP sources the card step needs, per directive, from the current settings."""
    script = _origin(settings.STRIPE_JS_URL)
    api = _origin(getattr(settings, "STRIPE_API_BASE", ""))
    if not script:
        return {}
    if script == "https://js.stripe.com":
        scripts, frames, connect = list(STRIPE_SCRIPTS), list(STRIPE_FRAMES), list(STRIPE_CONNECT)
    else:  # localstripe: its fake stripe.js, frames and API on its one address
        scripts, frames, connect = [script], [script], [script]
    if api and api not in connect:
        connect.append(api)
    return {"script-src": scripts, "frame-src": frames, "connect-src": connect}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        base = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
        update, replace = dict(parts.update or {}), dict(parts.replace or {})
        for directive, sources in card_provider_sources().items():
            if base.get(directive) == [NONE]:  # 'none' cannot be combined: the sources replace it
                replace[directive] = [*replace.get(directive, []), *sources]
            else:
                update[directive] = [*update.get(directive, []), *sources]
        parts.update, parts.replace = update, replace
        return parts


def _is_api(path: str) -> bool:
    return path.startswith("/api/") or ("/api/" in path and path.startswith("/c/"))


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(settings.STATIC_URL):
            return response  # our CSS and scripts (WhiteNoise): the same for everyone, cacheable
        signed_in = (
            settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META
        )
        if signed_in or _is_api(request.path_info):
            response["Cache-Control"] = NO_STORE
        return response
