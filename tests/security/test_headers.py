"""Headers and policies on every route (issue 15): a Content-Security-Policy everywhere and no
inline script in any page; `Cache-Control: private, no-store` on every answer to someone signed
in and on every API answer; HSTS and secure, HttpOnly, SameSite cookies in production.

Pages and endpoints are enumerated from the resolver (tests/security/routes.py), each asked by
whom it is for, with the ids of tests/security/world.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.badinput.probes import rolled_back
from tests.security.routes import all_routes

pytestmark = pytest.mark.xdist_group("security")  # one worker builds the world once

ASKED_BY = {"public": "anonymous", "account": "parent_f", "commune": "parent_f"}
ASKED_BY |= {"staff": "manager_a", "operator": "operator"}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
# Pages we do not write: Django's admin and the API's documentation keep their own markup.
THIRD_PARTY = ("admin/", "api/docs/")
GENERATED_FILES = (".pdf", ".xlsx", ".csv", "pdf/", ".ics", "receipts/<int:receipt_id>")
GENERATED_FILES += ("attestation-frais-de-garde/<int:year>/",)


def _policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _get(world, route, path):
    actor = world.actors[ASKED_BY[route.kind]]
    with rolled_back():
        return actor.page.get(path, **(actor.api_headers if route.is_api else {}))


def _csp_problems(where: str, response, route) -> list[str]:
    policy = _policy(response)
    if not policy:
        return [f"{where}: no Content-Security-Policy"]
    problems = []
    if "'unsafe-inline'" in policy["script-src"] or "'unsafe-eval'" in policy["script-src"]:
        problems.append(f"{where}: script-src {policy['script-src']}")
    if policy.get("frame-ancestors") != ["'none'"] or policy.get("object-src") != ["'none'"]:
        problems.append(f"{where}: frame-ancestors/object-src not 'none'")
    html = response.get("Content-Type", "").startswith("text/html")
    if not html or response.streaming or route.pattern.startswith(THIRD_PARTY):
        return problems
    body = response.content.decode()
    for name, pattern in (
        ("inline <script>", INLINE_SCRIPT),
        ("on…= handler", HANDLER_ATTRIBUTE),
        ("style= attribute", STYLE_ATTRIBUTE),
    ):
        if found := pattern.search(body):
            problems.append(f"{where}: {name}: {found.group(0)[:80]}")
    nonces = [s.removeprefix("'nonce-").rstrip("'") for s in policy["style-src"]]
    for style in re.findall(r"<style[^>]*>", body):
        if not any(f'nonce="{n}"' in style for n in nonces):
            problems.append(f"{where}: <style> without the request's nonce")
    return problems


# The probes (kubelet, Prometheus) are answered by the first middleware, before the host check,
# the HTTPS redirect and the CSP: plain text or JSON for machines on the internal network,
# never a page (tests/observability).
PROBES = {"healthz", "readyz", "metrics"}


def test_every_route_has_a_strict_csp_and_keeps_personal_answers_out_of_caches(
    world, quiet_request_log
):
    """Each route once, asked by whom it is for: a CSP on every answer (no inline script, no
    handler or style attribute, <style> only with the nonce, in the pages we write), and
    `private, no-store` on every API answer and every answer to someone signed in. Generated
    files (PDF, XLSX, CSV) are skipped but one: they take seconds each and go through the same
    middleware."""
    problems, pages = [], 0
    for route in all_routes():
        if route.pattern.endswith(GENERATED_FILES) and not route.pattern.endswith("effectifs.csv"):
            continue
        if route.pattern in PROBES:
            continue
        path = route.path("commune-a", world.ids)
        response = _get(world, route, path)
        where = f"GET {path} → {response.status_code}"
        problems += _csp_problems(where, response, route)
        pages += response.get("Content-Type", "").startswith("text/html")
        personal = route.kind != "public" or route.is_api
        if personal and response.get("Cache-Control") != "private, no-store":
            problems.append(f"{where}: Cache-Control {response.get('Cache-Control')}")
    assert pages >= 60, f"only {pages} pages walked"
    assert not problems, "\n".join(problems)


def test_static_files_stay_cacheable_for_someone_signed_in(world):
    response = world.actors["parent_f"].page.get("/static/css/marelle.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_card_step_allows_exactly_the_card_providers_origins(
    world, settings, quiet_request_log
):
    """The card step loads stripe.js from the provider (here the embedded localstripe): its
    origin, and no other, is added to script-src, frame-src and connect-src."""
    settings.STRIPE_JS_URL = "http://127.0.0.1:8420/js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    page = world.actors["parent_f"].page.get("/c/commune-a/panier/")
    policy = _policy(page)
    assert policy["script-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert policy["frame-src"] == ["http://127.0.0.1:8420"]
    assert policy["connect-src"] == ["'self'", "http://127.0.0.1:8420"]
    settings.STRIPE_JS_URL, settings.STRIPE_API_BASE = "https://js.stripe.com/v3/", ""
    policy = _policy(world.actors["parent_f"].page.get("/c/commune-a/panier/"))
    assert policy["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert policy["frame-src"] == [
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        "https://hooks.stripe.com",
    ]
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]


PRODUCTION_PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/compte/connexion/", secure=True, headers={"host": "marelle.example.fr"})
response.cookies["probe"] = "x"
from django.http import HttpResponse
cookie = HttpResponse()
cookie.set_cookie(
    settings.SESSION_COOKIE_NAME, "x", secure=settings.SESSION_COOKIE_SECURE,
    httponly=settings.SESSION_COOKIE_HTTPONLY, samesite=settings.SESSION_COOKIE_SAMESITE,
)
print(json.dumps({
    "hsts": response.get("Strict-Transport-Security"),
    "csp": response.get("Content-Security-Policy"),
    "redirect": Client().get("/compte/connexion/", headers={"host": "marelle.example.fr"}).status_code,
    "session_cookie": cookie.cookies[settings.SESSION_COOKIE_NAME].output(),
    "csrf": [settings.CSRF_COOKIE_SECURE, settings.CSRF_COOKIE_HTTPONLY,
             settings.CSRF_COOKIE_SAMESITE],
    "debug": settings.DEBUG,
}))
"""


def test_production_settings_send_hsts_and_secure_cookies(tmp_path):
    """The production settings, loaded in their own process (as gunicorn would)."""
    from django.conf import settings as test_settings

    db = test_settings.DATABASES["default"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "MARELLE_ENV": "production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "marelle.example.fr",
        "EMAIL_HOST": "smtp.example.fr",
        "PUBLIC_BASE_URL": "https://marelle.example.fr",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "MARELLE_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in seen["csp"]
    assert seen["redirect"] == 301  # plain HTTP is sent to HTTPS
    cookie = seen["session_cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert seen["csrf"] == [True, True, "Lax"]
    assert seen["debug"] is False
