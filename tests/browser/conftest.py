"""Browser tests: Playwright for Python driving the system's Chromium against a live server.

Nothing is downloaded: the browser is Debian's `chromium` (found on the PATH, `apt-get install
chromium`; `.ci/run` installs it when missing) launched through `executable_path`, and axe-core
is the copy bundled in the `axe-playwright-python` wheel. Without Chromium or Playwright the
tests are skipped with the reason. One browser per session (per xdist worker, started by the
first journey the worker runs: the journeys are spread over the workers); each test gets a fresh
context (cookies, storage) at 1280×800.

The live server (pytest-django's `live_server`, a thread of this process on 127.0.0.1) reads the
test database through its own connection, so the tests are transactional
(`django_db(transaction=True)`): rows are committed, then flushed (public schema) and truncated
(commune schemas, see tests/fixtures/communes.py) after each test.

`visit.check(page, "name")` runs axe at 390×844 and 1280×800 (no serious or critical violation
allowed) and saves both screenshots under var/screenshots/.

Chromium runs in French (`--lang=fr-FR`, LANGUAGE for Linux, the context's locale fr-FR): its own
words (validation bubbles, "Choisir un fichier") come from Debian's `chromium-l10n`, which must be
installed with `chromium` for them (without it they stay English; test_parent_books warns).

`new_page()` opens another context (another person at another computer: an agent accepting a
parent's request); `sign_in(user, on=that_page)` signs in there. Card journeys under the tests'
clock use `stripe_on_test_clock`: a localstripe whose clock is the tests' NOW, so that the
webhooks it signs are within Stripe's 300 s tolerance of the live server's moved clock.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
import time_machine

from tests.fixtures.bookings import NOW
from tests.payments.offline import WEBHOOK_SECRET, call_localstripe

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SIZES = {"mobile": (390, 844), "desktop": (1280, 800)}
BLOCKING = {"serious", "critical"}
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - dev extras not installed
    sync_playwright = None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Skip without Chromium; spread the journeys over the xdist workers.

    Each worker has its own live server, localstripe, database and (once it meets a journey)
    Chromium, so nothing ties the journeys to one worker: an `xdist_group("browser")` mark (they
    used to share one, the suite's critical path) is taken off here, before xdist's own hook
    reads the groups, so a new file that still carries it is spread too."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            for node in item.listchain():
                node.own_markers[:] = [
                    mark
                    for mark in node.own_markers
                    if not (mark.name == "xdist_group" and mark.args[:1] == ("browser",))
                ]
    reason = None
    if sync_playwright is None:
        reason = "Playwright for Python is not installed (pip install -e '.[dev]')"
    elif CHROMIUM is None:
        reason = "no Chromium on the PATH (apt-get install chromium); browsers are never downloaded"
    for item in items:
        if reason and here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def chromium_browser():
    # Playwright's sync API keeps its asyncio loop set as the main thread's running loop while
    # it is open, so Django's guard against the ORM in async code would refuse every query of
    # this (synchronous) test process. The guard is lifted for the rest of the session in a
    # worker that has met a browser test, as pytest-playwright's documentation advises.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # French for the browser's own words too (date inputs, validation bubbles, "Choisir
            # un fichier"), as for the parents the site is written for: --lang, and on Linux,
            # where Chromium takes its UI language from the environment, LANGUAGE. The words
            # come from Debian's chromium-l10n; the context's locale says French to pages.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=fr-FR"],
            env={**os.environ, "LANGUAGE": "fr_FR:fr", "LANG": "fr_FR.UTF-8"},
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def axe():
    return Axe()


@pytest.fixture
def browser_settings(settings):
    """Cookies that live as long as the browser: the server may run under frozen time, and a
    cookie dated by a frozen clock would already be expired for the real one."""
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None
    settings.AXES_ENABLED = False
    return settings


@pytest.fixture
def new_page(chromium_browser, live_server, browser_settings):
    """A page in a fresh context (its own cookies: another person at another computer), in
    French, Paris time, 1280×800. `page.js_errors` collects the page's uncaught errors."""
    browser_settings.PUBLIC_BASE_URL = live_server.url  # the card step's return address
    contexts = []

    def _new_page():
        context = chromium_browser.new_context(
            viewport={"width": 1280, "height": 800},
            locale="fr-FR",
            timezone_id="Europe/Paris",
            base_url=live_server.url,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors
        return page

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


class Visit:
    """Screenshots and axe at both sizes for the pages of one test."""

    def __init__(self, axe, test_name: str) -> None:
        self.axe = axe
        self.folder = SCREENSHOTS / re.sub(r"[^\w-]+", "_", test_name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.step = 0
        self.report: list[dict] = []

    def run_axe(self, page, context) -> list[dict]:
        """axe-core (the wheel's copy), injected once per document, violations only."""
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.axe.axe_script)
        return page.evaluate(
            "([context, options]) => axe.run(context || document, options).then(r => r.violations)",
            [context, {"resultTypes": ["violations"]}],
        )

    def check(self, page, name: str, exclude: tuple[str, ...] = ()) -> None:
        """Axe at 390×844 then 1280×800, a full-page screenshot of each; back at 1280×800.

        `exclude`: CSS selectors axe leaves out (only what is not ours, e.g. the fake card
        fields localstripe's stripe.js draws where Stripe's would be in their own iframe)."""
        context = {"exclude": [[selector] for selector in exclude]} if exclude else None
        self.step += 1
        page.wait_for_load_state("load")
        failures = []
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=self.folder / f"{self.step:02d}-{name}-{size}.png", full_page=True)
            violations = self.run_axe(page, context)
            self.report.append(
                {
                    "step": name,
                    "size": size,
                    "url": page.url,
                    "violations": [(v["id"], v["impact"], len(v["nodes"])) for v in violations],
                }
            )
            failures += [
                f"{size} {v['id']} ({v['impact']}): {v['help']} — "
                + "; ".join(n["html"][:120] for n in v["nodes"][:3])
                for v in violations
                if v["impact"] in BLOCKING
            ]
        (self.folder / "axe.json").write_text(json.dumps(self.report, indent=1, ensure_ascii=False))
        assert not failures, f"axe on {name} ({page.url}):\n" + "\n".join(failures)

    def shot(self, page, name: str) -> None:
        """A screenshot only (a page that axe already checked, in another state)."""
        self.step += 1
        page.screenshot(path=self.folder / f"{self.step:02d}-{name}.png", full_page=True)


@pytest.fixture
def visit(axe, request):
    return Visit(axe, request.node.name)


@pytest.fixture
def sign_in(page, live_server):
    """Sign someone in on `page` (or on `on`: another context's page).

    Typed through the two steps of "Créer ou accéder à mon compte usager" (e-mail, then
    password; the page then shows where the person lands) when the sign-in is part of what the
    test proves: `visit` given (both steps are axe-checked), a `password` given, or
    `typed=True`. Otherwise the session cookie is set directly, as Django's test client's
    `force_login` does (a real session row, the same `user_logged_in` signal), and the page
    stays where it was: the test goes to where its journey starts. The form itself is proven
    by the journeys that type it and by tests/accounts."""
    default_page = page

    def _sign_in(user, visit=None, password=None, on=None, typed=False):
        from django.conf import settings
        from django.test import Client

        from tests.factories import PASSWORD

        page = on or default_page
        if not (visit or password or typed):
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            page.context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": cookie.value,
                        "url": live_server.url,
                        "httpOnly": True,
                        "sameSite": "Lax",
                    }
                ]
            )
            return
        page.goto("/compte/acces/")
        if visit:
            visit.check(page, "acces")
        page.get_by_label("Adresse e-mail").fill(user.email)
        page.get_by_role("button", name="Continuer").click()
        page.wait_for_url("**/compte/connexion/**")
        if visit:
            visit.check(page, "mot-de-passe")
        page.get_by_label("Mot de passe").fill(password or PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state("load")
        assert "/compte/connexion/" not in page.url, page.content()[:2000]

    return _sign_in


@pytest.fixture
def stripe_webhook_to_live_server(stripe_offline, live_server):
    """localstripe's signed webhooks go to our endpoint on the live server, as in the demo."""
    status, body = call_localstripe(
        "POST",
        f"{stripe_offline}/_config/webhooks/marelle-browser-{os.getpid()}",
        {"url": f"{live_server.url}{WEBHOOK_PATH}", "secret": WEBHOOK_SECRET},
        key=None,
    )
    assert status == 200, body
    yield stripe_offline
    _stop_webhooks(stripe_offline)


@pytest.fixture
def stripe_on_test_clock(stripe_offline_on_test_clock, live_server):
    """For a card journey under the tests' clock (Thursday 3 December 2026): localstripe runs on
    that clock too, so the webhooks it signs and sends to the live server are not refused as
    replays (Stripe's 300 s tolerance). Yields the time-machine traveller: the test's clock,
    NOW plus the real time elapsed since that localstripe started, ticking."""
    url, origin = stripe_offline_on_test_clock
    status, body = call_localstripe(
        "POST",
        f"{url}/_config/webhooks/marelle-browser-{os.getpid()}",
        {"url": f"{live_server.url}{WEBHOOK_PATH}", "secret": WEBHOOK_SECRET},
        key=None,
    )
    assert status == 200, body
    elapsed = datetime.timedelta(seconds=time.time() - origin)
    with time_machine.travel(NOW + elapsed, tick=True) as traveller:
        yield traveller
    _stop_webhooks(url)


def _stop_webhooks(localstripe: str) -> None:
    """localstripe keeps its webhooks when its data is flushed, and sends each event a second
    after it happens: once the journey is over, this worker's registration is pointed at a
    closed port, so that neither the journey's last events nor the later tests' (the payments
    tests share this localstripe) reach the live server and write rows after the clean-up."""
    status, body = call_localstripe(
        "POST",
        f"{localstripe}/_config/webhooks/marelle-browser-{os.getpid()}",
        {"url": "http://127.0.0.1:9/dropped", "secret": WEBHOOK_SECRET},
        key=None,
    )
    assert status == 200, body
