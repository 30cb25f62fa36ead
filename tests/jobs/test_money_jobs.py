"""Low-balance e-mails (once per crossing, per commune), stale carts, the nightly ledger check
and the reconciliation with Stripe (localstripe) — reported, never corrected."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from shared_apps.families.services import get_or_create_family
from shared_apps.jobs.models import JobRun, JobStatus
from shared_apps.payments.models import Payment, PaymentStatus
from shared_apps.payments.reconciliation import reconcile_with_provider
from shared_apps.payments.stripe_provider import StripeProvider
from shared_apps.payments.tasks import reconcile_with_provider_task
from shared_apps.wallet.models import Account, AccountKind
from shared_apps.wallet.services import credit_top_up
from shared_apps.wallet.tasks import send_low_balance_email_task, verify_ledger_task
from tenant_apps.bookings.models import Cart, CartItem
from tenant_apps.bookings.tasks import delete_stale_carts_task
from tenant_apps.catalog.models import Service
from tenant_apps.catalog.tasks import (
    send_low_balance_emails_everywhere,
    send_low_balance_emails_task,
)
from tests.factories import UserFactory
from tests.fixtures.bookings import make_family
from tests.payments.offline import Browser

pytestmark = pytest.mark.django_db


def _threshold(commune, in_commune, service, cents):
    with in_commune(commune):
        Service.objects.filter(pk=service.pk).update(low_balance_threshold_cents=cents)


def test_a_low_pocket_is_told_once_per_crossing(
    commune_a, in_commune, canteen, run_job, mailoutbox
):
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    rich = make_family(commune_a, in_commune, canteen.service, funds_cents=5_000)
    _threshold(commune_a, in_commune, canteen.service, 1_000)

    run_job(send_low_balance_emails_task, commune_a.schema_name)
    run_job(send_low_balance_emails_task, commune_a.schema_name)  # the next day: still low
    assert [m.to for m in mailoutbox] == [[parent.email]]
    assert "Crédit bientôt épuisé" in mailoutbox[0].subject
    assert rich.email not in str([m.to for m in mailoutbox])

    # Topped up above the threshold: nothing said, and the next fall is told again.
    credit_top_up(
        source_key="again",
        family_id=parent.family.pk,
        amount_cents=1_000,
        commune=commune_a,
        service_id=canteen.service.pk,
    )
    run_job(send_low_balance_emails_task, commune_a.schema_name)
    assert len(mailoutbox) == 1
    _threshold(commune_a, in_commune, canteen.service, 2_000)  # 1 500 c is low again
    run_job(send_low_balance_emails_task, commune_a.schema_name)
    assert [m.to for m in mailoutbox] == [[parent.email], [parent.email]]


def test_a_crossing_told_at_payment_is_not_told_again_by_the_daily_job(
    commune_a, in_commune, canteen, run_job, mailoutbox
):
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    _threshold(commune_a, in_commune, canteen.service, 1_000)
    pocket = Account.objects.get(
        kind=AccountKind.SERVICE_POCKET, wallet__family_id=parent.family.pk
    )

    send_low_balance_email_task(pocket.pk, 1_000)  # what a wallet payment queues on a crossing
    run_job(send_low_balance_emails_task, commune_a.schema_name)

    assert [m.to for m in mailoutbox] == [[parent.email]]


def test_low_balance_e_mails_stay_in_their_commune(
    commune_a, commune_b, in_commune, canteen, canteen_b, run_job, mailoutbox
):
    family_a = make_family(commune_a, in_commune, canteen.service, funds_cents=100)
    family_b = make_family(commune_b, in_commune, canteen_b.service, funds_cents=100)
    _threshold(commune_a, in_commune, canteen.service, 1_000)
    _threshold(commune_b, in_commune, canteen_b.service, 1_000)

    run_job(send_low_balance_emails_task, commune_a.schema_name)
    assert [m.to for m in mailoutbox] == [[family_a.email]]
    run_job(send_low_balance_emails_everywhere)
    assert [m.to for m in mailoutbox] == [[family_a.email], [family_b.email]]


def test_stale_carts_are_deleted_in_their_commune_only(
    commune_a, commune_b, in_commune, canteen, canteen_b, run_job
):
    long_ago = timezone.now() - datetime.timedelta(hours=7)
    carts = {}
    for commune, product in ((commune_a, canteen), (commune_b, canteen_b)):
        with in_commune(commune):
            for age in ("stale", "fresh"):
                family = get_or_create_family(UserFactory())
                cart = Cart.objects.create(
                    family_id=family.pk, expires_at=timezone.now() + datetime.timedelta(minutes=30)
                )
                CartItem.objects.create(
                    cart=cart,
                    child_id=1,
                    product=product,
                    date=datetime.date(2026, 12, 8),
                    price_cents=380,
                )
                if age == "stale":
                    Cart.objects.filter(pk=cart.pk).update(expires_at=long_ago, updated_at=long_ago)
                carts[commune.slug, age] = cart.pk

    run_job(delete_stale_carts_task, commune_a.schema_name)
    run_job(delete_stale_carts_task, commune_a.schema_name)  # twice: nothing more to do

    with in_commune(commune_a):
        assert set(Cart.objects.values_list("pk", flat=True)) == {carts["commune-a", "fresh"]}
        assert CartItem.objects.count() == 1
    with in_commune(commune_b):
        assert Cart.objects.count() == 2  # B's stale cart waits for B's own run


def test_the_ledger_check_succeeds_then_reports_a_drifted_balance(
    commune_a, in_commune, canteen, parent, run_job, settings
):
    settings.JOBS_ALERT_EMAILS = ["ops@marelle.test"]
    run_job(verify_ledger_task)
    assert JobRun.objects.get(task_name__endswith="verify_ledger_task").status == "succeeded"

    pocket = Account.objects.filter(kind=AccountKind.SERVICE_POCKET).first()
    Account.objects.filter(pk=pocket.pk).update(balance_cents=pocket.balance_cents + 1)
    run_job(verify_ledger_task)

    failed = JobRun.objects.filter(status=JobStatus.FAILED).get()
    assert failed.attempts == 1  # findings are not retried
    assert failed.error_class == "JobFindings"
    assert any(f"account {pocket.pk}" in line for line in failed.details)
    assert len(mail.outbox) == 1 and "verify_ledger_task" in mail.outbox[0].subject


def _payment(family, ref, amount_cents, status):
    return Payment.objects.create(
        family=family, amount_cents=amount_cents, provider_ref=ref, status=status
    )


def test_reconciliation_reports_differences_both_ways(stripe_offline, parent, run_job, settings):
    provider = StripeProvider.from_settings()
    only_at_stripe = provider.start_payment(
        amount_cents=1_500, currency="eur", metadata={}, idempotency_key="a"
    )
    both = provider.start_payment(
        amount_cents=2_000, currency="eur", metadata={}, idempotency_key="b"
    )
    same = provider.start_payment(
        amount_cents=700, currency="eur", metadata={}, idempotency_key="c"
    )
    paid = provider.start_payment(
        amount_cents=3_000, currency="eur", metadata={}, idempotency_key="d"
    )
    assert Browser(stripe_offline).pay(paid.provider_ref, "4242424242424242")[0] == 200
    refund_at_stripe = provider.refund(
        payment_ref=paid.provider_ref, amount_cents=500, idempotency_key="r"
    )
    family = parent.family
    _payment(family, paid.provider_ref, 3_000, status=PaymentStatus.PROCESSING)
    ours_only = _payment(family, "pi_not_at_stripe", 900, status=PaymentStatus.PROCESSING)
    different = _payment(family, both.provider_ref, 2_500, status=PaymentStatus.CREATED)
    _payment(family, same.provider_ref, 700, status=PaymentStatus.CREATED)

    since = timezone.now() - datetime.timedelta(days=1)
    found = {
        (d.kind, d.provider_ref)
        for d in reconcile_with_provider(since=since, settle=datetime.timedelta(0))
    }
    assert found == {
        ("missing_here", only_at_stripe.provider_ref),
        ("missing_at_provider", ours_only.provider_ref),
        ("amount", different.provider_ref),
        ("status", paid.provider_ref),  # succeeded at Stripe, still processing here
        ("missing_here", refund_at_stripe.provider_ref),
    }
    assert Payment.objects.get(pk=different.pk).amount_cents == 2_500  # nothing corrected

    settings.RECONCILIATION_SETTLE_MINUTES = 0
    run_job(reconcile_with_provider_task)
    run = JobRun.objects.get(task_name__endswith="reconcile_with_provider_task")
    assert run.status == JobStatus.FAILED and len(run.details) == 5
    assert any("introuvable chez le prestataire" in line for line in run.details)
    assert any("absent chez nous" in line for line in run.details)
    assert not any(parent.email in line for line in run.details)


def test_reconciliation_finds_nothing_when_all_agree(stripe_offline, parent, run_job, settings):
    provider = StripeProvider.from_settings()
    started = provider.start_payment(
        amount_cents=1_000, currency="eur", metadata={}, idempotency_key="ok"
    )
    _payment(parent.family, started.provider_ref, 1_000, status=PaymentStatus.CREATED)
    settings.RECONCILIATION_SETTLE_MINUTES = 0
    run_job(reconcile_with_provider_task)
    assert JobRun.objects.get().status == JobStatus.SUCCEEDED
