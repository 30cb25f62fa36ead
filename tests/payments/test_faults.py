"""Faults (issue 15): what happens to money and bookings when the machinery breaks half-way.

Each fault is produced for real, not by replacing our code: the database connection is cut
with `pg_terminate_backend` from another connection (what PostgreSQL sees when a process dies
or the network drops), a webhook races the request that saves the provider's reference on
real parallel connections, and the provider's answer to a refund is held back by a proxy until
our client times out. After the retries each scenario must end consistent: money and bookings
agree, nothing is charged or credited twice, and `verify_ledger` passes.
"""

from __future__ import annotations

import datetime
import http.server
import re
import threading
import time
import urllib.request
from contextlib import contextmanager

import psycopg
import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone

from shared_apps.payments import services as payment_services
from shared_apps.payments.errors import PaymentProviderUnavailable
from shared_apps.payments.models import Payment, Refund, WebhookEvent
from shared_apps.payments.services import refund_to_card, retry_unmatched_webhook_events
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings import selectors as booking_selectors
from tenant_apps.bookings.models import CartItem, DayCount, Order, Reservation
from tests.fixtures.bookings import make_family
from tests.payments.offline import CARD_OK

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/c/commune-a/api/v1"


# --- Instruments ---------------------------------------------------------------------------------


@contextmanager
def connection_cut_before(statement: str):
    """Cut this thread's database connection (from another connection, as a dying process or a
    dropped network would) just before the first SQL statement containing `statement` (case and
    quotes ignored). Yields a dict whose "cut" tells whether it happened: a test whose statement
    no longer runs must fail, not pass without a fault."""
    state = {"cut": False}
    wanted = statement.lower().replace('"', "")

    def cut(execute, sql, params, many, context):
        if not state["cut"] and wanted in sql.lower().replace('"', ""):
            state["cut"] = True
            pid = connection.connection.info.backend_pid
            params_ = connection.get_connection_params()
            keep = {"dbname", "user", "password", "host", "port"}
            with psycopg.connect(
                **{k: v for k, v in params_.items() if k in keep}, autocommit=True
            ) as killer:
                killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(cut):
        yield state


def pockets_total(family_id: int) -> int:
    return sum(p.balance_cents for p in pockets_of(family_id))


def next_bookable_days(parent, product, commune, in_commune, count: int) -> list[str]:
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
    return [d.date.isoformat() for d in days if d.status == "bookable"][:count]


# --- 1. The database connection drops in the middle of a checkout ---------------------------


@pytest.mark.parametrize(
    "statement",
    [
        'INSERT INTO "bookings_reservation"',  # the places
        'INSERT INTO "wallet_posting"',  # the money
        'DELETE FROM "bookings_cartitem"',  # the last step before COMMIT
    ],
)
def test_a_checkout_cut_half_way_books_and_charges_nothing_and_the_retry_books_once(
    statement, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    days = next_bookable_days(parent, canteen, commune_a, in_commune, 3)
    kids = [k.pk for k in parent.kids]
    added = parent.api.post(
        f"{BASE}/cart/items", {"product_id": canteen.pk, "child_ids": kids, "dates": days}
    )
    assert added.status_code == 201, added.json()

    with connection_cut_before(statement) as fault, pytest.raises(OperationalError):
        parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert fault["cut"], f"the checkout no longer runs {statement}: move the fault"
    connection.close()  # the next request gets a new connection, as a new worker would

    # Nothing happened: no place, no money, the cart as it was.
    with in_commune(commune_a):
        assert not Reservation.objects.exists() and not Order.objects.exists()
        assert set(DayCount.objects.values_list("booked", flat=True)) <= {0}
        assert CartItem.objects.count() == len(days) * 2
    assert pockets_total(parent.family.pk) == 10_000

    retried = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert retried.status_code == 201, retried.json()
    assert retried.json()["status"] == "paid"
    # The answer is lost again (the client retries a request that did succeed): nothing more.
    again = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "cart_empty"

    with in_commune(commune_a):
        assert Order.objects.count() == 1
        booked = Reservation.objects.filter(status="booked")
        assert booked.count() == len(days) * 2
        held = sum(r.price_cents for r in booked)
    assert pockets_total(parent.family.pk) == 10_000 - held
    call_command("verify_ledger")


# --- 2. A worker dies after the provider charged, before we recorded it ----------------------


def _card_order(parent, canteen, days) -> tuple[dict, Payment]:
    parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": days},
    )
    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "card"})
    assert response.status_code == 201, response.json()
    body = response.json()
    return body, Payment.objects.get(pk=body["payment"]["id"])


def test_a_worker_dying_while_recording_a_card_payment_loses_nothing_and_credits_once(
    commune_a, in_commune, canteen, browser, webhook_inbox, post_webhook
):
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=0)
    days = next_bookable_days(parent, canteen, commune_a, in_commune, 2)
    body, payment = _card_order(parent, canteen, days)
    browser.pay(payment.provider_ref, CARD_OK)  # the bank has charged the card
    delivery = webhook_inbox.wait_for("payment_intent.succeeded", payment.provider_ref)

    # The process recording the payment dies in the middle of its transaction.
    with (
        connection_cut_before('INSERT INTO "wallet_posting"') as fault,
        pytest.raises(OperationalError),
    ):
        post_webhook(delivery.body, delivery.signature)
    assert fault["cut"]
    connection.close()

    event = WebhookEvent.objects.get(payment_ref=payment.provider_ref)
    assert event.processed_at is None  # kept: what the provider confirmed is never dropped
    with in_commune(commune_a):
        assert Order.objects.get(pk=body["order_id"]).status == "awaiting_payment"
    assert not LedgerTransaction.objects.filter(source_key__startswith=f"cardpay:{payment.pk}")

    # The broker redelivers the task (acks late) / the beat job retries: recorded once.
    assert retry_unmatched_webhook_events() == 0
    assert post_webhook(delivery.body, delivery.signature).status_code == 200  # Stripe retries
    with in_commune(commune_a):
        assert Order.objects.get(pk=body["order_id"]).status == "paid"
        assert Reservation.objects.filter(status="booked").count() == 2
    assert (
        LedgerTransaction.objects.filter(source_key__startswith=f"cardpay:{payment.pk}").count()
        == 1
    )
    assert pockets_total(parent.family.pk) == 0  # the card paid the places, nothing left over
    call_command("verify_ledger")


# --- 3. A webhook arrives before the request that started the payment has saved it -----------


def test_a_webhook_racing_the_saving_of_the_payment_reference_is_applied_once(
    commune_a, in_commune, canteen, browser, webhook_inbox, post_webhook, monkeypatch
):
    """The provider has created the intent and the card is paid, while the checkout request is
    still about to save the intent's id (paused there, on its own connection)."""
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=0)
    days = next_bookable_days(parent, canteen, commune_a, in_commune, 2)
    parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": days},
    )
    started, resume = threading.Event(), threading.Event()
    seen: dict = {}
    real_start = payment_services._start_with_provider

    class Paused:
        """The provider, as seen by the checkout: answers, then the request stalls."""

        def __init__(self, provider):
            self._provider = provider

        def __getattr__(self, name):
            return getattr(self._provider, name)

        def start_payment(self, **kwargs):
            answer = self._provider.start_payment(**kwargs)
            seen["ref"] = answer.provider_ref
            started.set()
            assert resume.wait(30)
            return answer

    monkeypatch.setattr(
        payment_services,
        "_start_with_provider",
        lambda payment, provider: real_start(payment, Paused(provider)),
    )
    result: dict = {}

    def checkout():
        try:
            result["response"] = parent.api.post(
                f"{BASE}/cart/checkout", {"payment_method": "card"}
            )
        finally:
            connection.close()

    thread = threading.Thread(target=checkout)
    thread.start()
    try:
        assert started.wait(30)
        ref = seen["ref"]
        assert not Payment.objects.filter(provider_ref=ref).exists()  # not saved yet
        browser.pay(ref, CARD_OK)
        delivery = webhook_inbox.wait_for("payment_intent.succeeded", ref)
        assert post_webhook(delivery.body, delivery.signature).status_code == 200
    finally:
        resume.set()
        thread.join(60)
    assert result["response"].status_code == 201, result["response"].json()
    body = result["response"].json()

    payment = Payment.objects.get(pk=body["payment"]["id"])
    assert (payment.status, payment.provider_ref) == ("succeeded", ref)
    with in_commune(commune_a):
        assert Order.objects.get(pk=body["order_id"]).status == "paid"
    assert (
        LedgerTransaction.objects.filter(source_key__startswith=f"cardpay:{payment.pk}").count()
        == 1
    )
    assert retry_unmatched_webhook_events() == 0
    call_command("verify_ledger")


# --- 4. The provider times out on a refund ------------------------------------------------------


class SlowRefunds(http.server.ThreadingHTTPServer):
    """A proxy before localstripe that forwards everything, but holds back the answer to the
    first refund it forwards until well after our client has given up."""

    daemon_threads = True

    def __init__(self, upstream: str, hold_seconds: float):
        self.upstream, self.hold_seconds, self.held = upstream, hold_seconds, 0
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(http.server.BaseHTTPRequestHandler):
    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}}
        request = urllib.request.Request(
            self.server.upstream + self.path, data=body, headers=headers, method=self.command
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as upstream:
                status, payload, kind = upstream.status, upstream.read(), upstream.headers
        except urllib.error.HTTPError as error:
            status, payload, kind = error.code, error.read(), error.headers
        if (
            self.command == "POST"
            and re.fullmatch(r"/v1/refunds/?", self.path)
            and not self.server.held
        ):
            self.server.held += 1  # Stripe has refunded; the answer never arrives in time
            time.sleep(self.server.hold_seconds)
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client left

    do_GET = do_POST = do_DELETE = _forward

    def log_message(self, *args):
        pass


def test_a_refund_whose_answer_times_out_is_found_again_and_made_once(
    settings, localstripe_url, cantine, browser, auth_api, post_webhook
):
    from shared_apps.families.services import get_or_create_family
    from tests.payments.offline import event_for, sign

    family = get_or_create_family(auth_api.user)
    response = auth_api.post(
        "/api/v1/wallet/top-ups",
        {"amount_cents": 2000, "scope": "service", "commune_slug": "commune-a", "service_id": 7},
    )
    assert response.status_code == 201, response.json()
    payment = Payment.objects.get(pk=response.json()["id"])
    browser.pay(payment.provider_ref, CARD_OK)
    event = event_for(browser.intent(payment.provider_ref), "payment_intent.succeeded")
    assert post_webhook(event, sign(event)).status_code == 200
    assert pockets_total(family.pk) == 2000

    proxy = SlowRefunds(localstripe_url, hold_seconds=3)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    settings.STRIPE_API_BASE = proxy.url
    settings.STRIPE_TIMEOUT_SECONDS = 1
    try:
        with pytest.raises(PaymentProviderUnavailable):
            refund_to_card(payment=payment, amount_cents=800, refund_key="timeout-1")
        refund = Refund.objects.get(idempotency_key="timeout-1")
        assert (refund.status, refund.provider_ref) == ("pending", None)
        assert proxy.held == 1  # Stripe did refund: its answer was lost
        assert len(browser.refunds_of(payment.provider_ref)) == 1
        assert pockets_total(family.pk) == 1200  # out of the pocket, waiting for the card

        again = refund_to_card(payment=payment, amount_cents=800, refund_key="timeout-1")
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert again.pk == refund.pk and again.status == "succeeded"
    assert [r["amount"] for r in browser.refunds_of(payment.provider_ref)] == [800]  # once
    assert Refund.objects.count() == 1
    assert pockets_total(family.pk) == 1200
    assert LedgerTransaction.objects.filter(source_key__startswith="cardrefund").count() == 1
    call_command("verify_ledger")
