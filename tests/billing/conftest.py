"""Billing tests: localstripe for the mandates' set-ups (what the browser's Stripe.js does is
done over HTTP, as tests/payments/offline.Browser does for cards)."""

from __future__ import annotations

import pytest
import time_machine

from tenant_apps.billing.models import Invoice
from tenant_apps.billing.services.invoicing import build_invoices
from tests.billing.invoicing import DECEMBER, JANUARY_2ND, book_december
from tests.fixtures.bookings import make_family
from tests.payments.offline import PUBLISHABLE_KEY, call_localstripe

IBAN_OK = "FR1420041010050500013M02606"
# localstripe accepts every IBAN at set-up; this one's *debits* are declined (resources.py).
IBAN_DEBIT_DECLINED = "DE62370400440532013001"


class SepaBrowser:
    """stripe.confirmSepaDebitSetup, as the IBAN page's script calls it, over HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base

    def confirm(self, client_secret: str, iban: str = IBAN_OK) -> tuple[int, dict]:
        setup_id = client_secret.split("_secret_")[0]
        return call_localstripe(
            "POST",
            f"{self.base}/v1/setup_intents/{setup_id}/confirm",
            {
                "key": PUBLISHABLE_KEY,
                "client_secret": client_secret,
                "payment_method_data[type]": "sepa_debit",
                "payment_method_data[sepa_debit][iban]": iban,
                "payment_method_data[billing_details][name]": "Camille Martin",
            },
            key=None,
        )

    def setup_intent(self, setup_id: str) -> dict:
        status, body = call_localstripe("GET", f"{self.base}/v1/setup_intents/{setup_id}")
        assert status == 200, body
        return body


@pytest.fixture
def sepa(stripe_offline) -> SepaBrowser:
    return SepaBrowser(stripe_offline)


@pytest.fixture(scope="session")
def billing_webhooks(localstripe_url):
    """localstripe's signed webhooks, captured by a server of ours registered under its own
    endpoint id (the payments tests register theirs; both receive every event)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.payments.offline import WEBHOOK_SECRET, Delivery, WebhookInbox

    inbox = WebhookInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            inbox.record(Delivery(body, self.headers.get("Stripe-Signature", "")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    status, _ = call_localstripe(
        "POST",
        f"{localstripe_url}/_config/webhooks/marelle-billing",
        {"url": f"http://127.0.0.1:{server.server_port}/", "secret": WEBHOOK_SECRET},
        key=None,
    )
    assert status == 200
    yield inbox
    server.shutdown()
    server.server_close()


@pytest.fixture
def deliver(billing_webhooks, api, django_capture_on_commit_callbacks):
    """Wait for localstripe's signed event about an intent and post those exact bytes to our
    webhook endpoint, running what is queued after commit (the processing)."""

    def _deliver(event_type: str, intent_id: str):
        delivery = billing_webhooks.wait_for(event_type, intent_id)
        with django_capture_on_commit_callbacks(execute=True):
            response = api.generic(
                "POST",
                "/api/v1/payments/stripe/webhook",
                delivery.body,
                content_type="application/json; charset=utf-8",
                HTTP_STRIPE_SIGNATURE=delivery.signature,
            )
        assert response.status_code == 200, response.content
        return delivery

    return _deliver


@pytest.fixture
def invoiced(commune_a, in_commune, canteen, parent):
    """`parent`'s and another family's December invoices (unpaid); returns (parent's, other's)."""
    book_december(commune_a, in_commune, canteen, parent)
    other = make_family(commune_a, in_commune, canteen.service, children=1)
    book_december(commune_a, in_commune, canteen, other)
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        build_invoices(commune=commune_a, month=DECEMBER)
        return (
            Invoice.objects.get(family_id=parent.family.pk),
            Invoice.objects.get(family_id=other.family.pk),
        )
