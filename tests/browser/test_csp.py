"""In a real browser, the Content-Security-Policy blocks nothing we need (issue 15): the card
step (stripe.js from the provider — here the embedded localstripe — its card fields, the
payment), and the pages whose scripts moved out of the templates into static/js.

Every violation is collected twice: the page's `securitypolicyviolation` events (listened to by
a script Chromium injects before the page's own, which the policy cannot block) and Chromium's
console errors ("Refused to … because it violates the following Content Security Policy
directive"). Marker browser: skipped without Chromium, as tests/browser.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tenant_apps.bookings import selectors as booking_selectors
from tests.browser import conftest as browser
from tests.browser.helpers import CARD_OK, fill_card
from tests.fixtures.bookings import make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        browser.sync_playwright is None or browser.CHROMIUM is None,
        reason="Playwright or Chromium missing (see tests/browser/conftest.py)",
    ),
]

LISTEN = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.reportCspViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _watch(page) -> list[str]:
    """Every CSP violation of every document `page` shows from now on."""
    seen: list[str] = []
    page.expose_function("reportCspViolation", lambda text: seen.append(f"event: {text}"))
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda message: (
            seen.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return seen


def _bookable_days(commune, in_commune, parent, product) -> list[str]:
    today = timezone.localdate()
    with in_commune(commune):
        days = booking_selectors.calendar(
            commune=commune,
            user=parent,
            product=product,
            child_id=parent.kids[0].pk,
            start=today,
            end=today + datetime.timedelta(days=45),
        )
    return [d.date.isoformat() for d in days if d.status == "bookable"][:2]


def test_the_card_step_and_the_pages_with_scripts_raise_no_csp_violation(
    stripe_webhook_to_live_server, page, sign_in, commune_a, in_commune, canteen
):
    violations = _watch(page)
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=0)
    days = _bookable_days(commune_a, in_commune, parent, canteen)
    sign_in(parent)

    # The product page: its quick selection ("Semaine", from static/js/quick-select.js) shows.
    page.goto(f"/c/commune-a/reserver/{canteen.pk}/")
    expect(page.locator("button.week-select").first).to_be_visible()

    # The card step: stripe.js from localstripe, its card fields, then the payment.
    added = parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": days},
    )
    assert added.status_code == 201, added.json()
    order = parent.api.post("/c/commune-a/api/v1/cart/checkout", {"payment_method": "card"})
    assert order.status_code == 201, order.json()
    page.goto(f"/c/commune-a/panier/commande/{order.json()['order_id']}/carte/")
    expect(page.locator("#payment-form")).to_be_visible()
    fill_card(page, CARD_OK)
    page.get_by_role("button", name="Payer").click()
    page.wait_for_url(re.compile(r".*/panier/commande/\d+/$"))  # confirmed: the order's page

    # "Mes réservations": the copy button of the calendar address (static/js/copy-address.js).
    page.goto("/reservations/")
    page.wait_for_load_state("load")

    assert not violations, "\n".join(violations)
