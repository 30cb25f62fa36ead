"""A suspended commune takes no booking and moves no money, from anyone, at once; its pages say
so; nothing is lost; resuming restores everything."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from shared_apps.audit.models import AuditEntry
from shared_apps.payments.models import Payment
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.billing.models import InvoiceRun
from tenant_apps.billing.services.collection import collect_invoice
from tenant_apps.billing.tasks import build_invoices_task, build_last_month_invoices_everywhere
from tenant_apps.bookings.models import Order, Reservation
from tenant_apps.bookings.services.attendance import mark_attendance
from tenants.models import Commune, Membership
from tenants.selectors import commune_for_slug
from tenants.services import CommuneSuspended, commune_is_suspended
from tests.console.conftest import page_client
from tests.factories import UserFactory
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"
MON, TUE = "2026-12-07", "2026-12-08"
SUSPENDED = "commune_suspended"


def _balance(parent) -> int:
    return sum(p.balance_cents for p in pockets_of(parent.family.pk))


def _suspend(operator, commune, reason="Convention non renouvelée"):
    response = operator.web.post(f"/operateur/communes/{commune.pk}/suspendre/", {"reason": reason})
    assert response.status_code == 302
    return response


def _suspended_behind_the_cache(commune: Commune) -> None:
    """Suspended in the database by a change this process has not heard of (another process
    whose routing-version bump has not landed): the cached commune still says it is open."""
    Commune.objects.filter(pk=commune.pk).update(suspended_at=timezone.now(), suspension_reason="x")


def _add_to_cart(parent, canteen, dates=(MON, TUE)):
    added = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [k.pk for k in parent.kids], "dates": list(dates)},
    )
    assert added.status_code == 201, added.json()


def _assert_refused(response) -> None:
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == SUSPENDED
    assert "suspendu" in error["message"]


def test_suspending_shows_a_banner_on_the_communes_pages_and_is_audited(
    operator, commune_a, parent, client, manager_a
):
    assert "suspendu" not in client.get("/c/commune-a/").content.decode()
    assert commune_for_slug("commune-a") is not None  # this process has it cached

    _suspend(operator, commune_a, "Convention non renouvelée")

    for page in (
        client.get("/c/commune-a/"),
        page_client(parent).get("/c/commune-a/reserver/"),
        manager_a.web.get("/c/commune-a/gestion/"),
    ):
        text = page.content.decode()
        assert page.status_code == 200
        assert "Le service de Commune A est suspendu." in text
        assert "Motif : Convention non renouvelée" in text
    entry = AuditEntry.objects.get(action="operator.commune_suspend")
    assert entry.actor == operator and entry.details == {"reason": "Convention non renouvelée"}
    console = operator.web.get("/operateur/").content.decode()
    assert "Suspendue" in console

    operator.web.post(f"/operateur/communes/{commune_a.pk}/reprendre/")

    assert "suspendu" not in client.get("/c/commune-a/").content.decode()
    assert AuditEntry.objects.filter(action="operator.commune_resume", actor=operator).exists()


def test_a_suspension_needs_a_reason_and_a_commune_not_already_suspended(operator, commune_a):
    response = operator.web.post(
        f"/operateur/communes/{commune_a.pk}/suspendre/", {"reason": "  "}, follow=True
    )
    assert "Indiquez le motif" in response.content.decode()
    commune_a.refresh_from_db()
    assert commune_a.suspended_at is None

    _suspend(operator, commune_a)
    again = operator.web.post(
        f"/operateur/communes/{commune_a.pk}/suspendre/", {"reason": "encore"}, follow=True
    )
    assert "déjà suspendue" in again.content.decode()
    assert AuditEntry.objects.filter(action="operator.commune_suspend").count() == 1


def test_api_checkout_and_cancellation_are_refused_with_a_stale_cache_then_resume_restores(
    frozen, operator, parent, canteen, commune_a, in_commune
):
    _add_to_cart(parent, canteen, dates=(MON,))
    done = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert done.status_code in (200, 201), done.json()
    _add_to_cart(parent, canteen, dates=(TUE,))
    balance = _balance(parent)
    with in_commune(commune_a):
        booked = Reservation.objects.order_by("pk").first()
        orders = Order.objects.count()
    _suspended_behind_the_cache(commune_a)  # the lock in the transaction sees it all the same

    _assert_refused(parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"}))
    _assert_refused(parent.api.post(f"{BASE}/reservations/{booked.pk}/cancel"))

    assert _balance(parent) == balance  # nothing lost, nothing moved
    with in_commune(commune_a):
        assert Order.objects.count() == orders
        assert Reservation.objects.get(pk=booked.pk).status == "booked"

    operator.web.post(f"/operateur/communes/{commune_a.pk}/reprendre/")

    assert parent.api.post(f"{BASE}/reservations/{booked.pk}/cancel").status_code == 200
    done = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert done.status_code in (200, 201), done.json()


def test_the_checkout_page_says_the_service_is_suspended(
    frozen, operator, parent, canteen, commune_a, in_commune
):
    _add_to_cart(parent, canteen)
    _suspend(operator, commune_a)

    response = page_client(parent).post(
        "/c/commune-a/panier/payer/", {"payment_method": "wallet"}, follow=True
    )

    assert "aucune réservation ni aucun paiement" in response.content.decode()
    assert _balance(parent) == 10_000
    with in_commune(commune_a):
        assert not Reservation.objects.exists()


def test_counter_payment_and_booking_on_behalf_are_refused(
    frozen, operator, parent, canteen, commune_a, in_commune
):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    staff = client_for(agent)
    assert staff.get(f"{BASE}/staff/headcount", {"date": MON}).status_code == 200  # cached
    _suspended_behind_the_cache(commune_a)

    _assert_refused(
        staff.post(
            f"{BASE}/staff/wallet-credits",
            {
                "family_id": parent.family.pk,
                "service_id": canteen.service.pk,
                "amount_cents": 2500,
                "method": "cash",
                "reference": "REÇU 12",
            },
        )
    )
    _assert_refused(
        staff.post(
            f"{BASE}/staff/reservations",
            {
                "child_id": parent.kids[0].pk,
                "product_id": canteen.pk,
                "dates": [MON],
                "consent_note": "Mme Martin, au téléphone",
            },
        )
    )
    assert _balance(parent) == 10_000
    with in_commune(commune_a):
        assert not Reservation.objects.exists()


def test_attendance_moves_no_money_while_suspended(
    frozen, operator, parent, canteen, commune_a, in_commune
):
    _add_to_cart(parent, canteen, dates=(MON,))
    parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    balance, transactions = _balance(parent), LedgerTransaction.objects.count()
    frozen.move_to(datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC))
    _suspended_behind_the_cache(commune_a)

    response = client_for(agent).post(
        f"{BASE}/staff/attendance",
        {"date": MON, "product_id": canteen.pk, "absent": [parent.kids[0].pk]},
        format="json",
    )

    _assert_refused(response)
    with in_commune(commune_a), pytest.raises(CommuneSuspended):
        mark_attendance(
            commune=commune_a,
            staff_user=agent,
            day=datetime.date(2026, 12, 7),
            product_id=canteen.pk,
            present=[],
            absent=[parent.kids[0].pk],
            added=[],
        )
    assert _balance(parent) == balance
    assert LedgerTransaction.objects.count() == transactions


def test_a_top_up_for_a_suspended_communes_service_is_refused(
    stripe_offline, operator, parent, canteen, commune_a
):
    from shared_apps.directory.services import publish_service

    publish_service(
        commune=commune_a,
        service_id=canteen.service.pk,
        kind="cantine",
        name="Cantine",
        description="",
        is_active=True,
    )
    payments = Payment.objects.count()
    _suspend(operator, commune_a)

    response = parent.api.post(
        "/api/v1/wallet/top-ups",
        {
            "amount_cents": 2000,
            "scope": "service",
            "commune_slug": "commune-a",
            "service_id": canteen.service.pk,
        },
    )

    _assert_refused(response)
    assert Payment.objects.count() == payments
    # The "tous services" credit belongs to no commune: it can still be topped up.
    general = parent.api.post("/api/v1/wallet/top-ups", {"amount_cents": 2000, "scope": "general"})
    assert general.status_code == 201, general.content


def test_invoice_collection_and_the_scheduled_jobs_skip_a_suspended_commune(
    stripe_offline, operator, commune_a, commune_b, in_commune, monkeypatch
):
    from shared_apps.jobs import scheduling

    queued = []
    monkeypatch.setattr(scheduling, "enqueue_job", lambda task, *args: queued.append(args))
    build_last_month_invoices_everywhere()
    assert {args[0] for args in queued} >= {commune_a.schema_name, commune_b.schema_name}

    _suspend(operator, commune_a)
    queued.clear()
    build_last_month_invoices_everywhere()

    assert commune_b.schema_name in {args[0] for args in queued}
    assert commune_a.schema_name not in {args[0] for args in queued}  # skipped
    assert commune_a not in scheduling.communes_for_jobs()  # every scheduled job skips it
    assert commune_is_suspended(commune_a.schema_name)
    # A task queued before the suspension looks again when it runs, and does nothing.
    assert build_invoices_task(commune_a.schema_name, "2026-11-01") == 0
    with in_commune(commune_a):
        assert not InvoiceRun.objects.exists()
        with pytest.raises(CommuneSuspended):
            collect_invoice(commune=commune_a, invoice_id=1)


def test_a_payment_the_provider_completes_after_the_suspension_is_still_recorded(
    operator, parent, canteen, commune_a
):
    # A top-up of the canteen's pocket started before the suspension; the bank confirms it after.
    from shared_apps.payments.models import PaymentStatus, WebhookEvent
    from shared_apps.payments.services import process_webhook_event

    payment = Payment.objects.create(
        family_id=parent.family.pk,
        purpose="top_up",
        amount_cents=2000,
        scope="service",
        commune=commune_a,
        service_id=canteen.service.pk,
        provider="stripe",
        provider_ref="pi_suspendue",
        status=PaymentStatus.PROCESSING,
    )
    _suspend(operator, commune_a)
    event = WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_suspendue",
        type="payment_intent.succeeded",
        payment_ref="pi_suspendue",
        payload={
            "id": "evt_suspendue",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "object": "payment_intent",
                    "id": "pi_suspendue",
                    "amount": 2000,
                    "currency": "eur",
                    "metadata": {"payment_id": str(payment.pk)},
                }
            },
        },
    )

    assert process_webhook_event(event_pk=event.pk)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert _balance(parent) == 10_000 + 2000  # money is never lost
