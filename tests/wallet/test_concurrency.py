"""Real parallel connections against one wallet: never negative, exactly consistent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from shared_apps.families.services import get_or_create_family
from shared_apps.wallet.errors import InsufficientBalance
from shared_apps.wallet.models import Account, LedgerTransaction
from shared_apps.wallet.services import credit_top_up, pay_from_wallet, refund_to_service_pocket
from tests.factories import UserFactory
from tests.parallel import run_in_parallel

# Real connections: these tests share one xdist worker (pyproject's `--dist loadgroup`), so
# their threads never add up against PostgreSQL's max_connections.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("real_connections")]


def test_fifty_simultaneous_spends_and_refunds_never_overdraw(commune_a, commune_b):
    family = get_or_create_family(UserFactory())
    credit_top_up(
        source_key="seed-a", family_id=family.pk, amount_cents=3000, commune=commune_a, service_id=1
    )
    credit_top_up(source_key="seed-g", family_id=family.pk, amount_cents=2000)

    def spend(i, commune):
        return lambda: pay_from_wallet(
            source_key=f"spend:{i}",
            family_id=family.pk,
            commune=commune,
            service_id=1,
            amount_cents=300,
            description="Repas",
        )

    def refund(i):
        return lambda: refund_to_service_pocket(
            source_key=f"refund:{i}",
            family_id=family.pk,
            commune=commune_a,
            service_id=1,
            amount_cents=100,
            description="Annulation",
        )

    jobs = [spend(i, commune_a if i % 2 else commune_b) for i in range(35)] + [
        refund(i) for i in range(15)
    ]
    results = run_in_parallel(jobs)

    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, InsufficientBalance)
    ]
    assert unexpected == []
    spent = sum(1 for r in results[:35] if not isinstance(r, Exception))
    refused = 35 - spent
    assert spent > 0 and refused > 0, "the race must exhaust the wallet"

    pockets = Account.objects.filter(wallet__family=family)
    assert all(p.balance_cents >= 0 for p in pockets)
    assert sum(p.balance_cents for p in pockets) == 3000 + 2000 - 300 * spent + 100 * 15
    assert LedgerTransaction.objects.filter(source_key__startswith="spend:").count() == spent
    call_command("verify_ledger")


def test_the_same_payment_posted_concurrently_debits_once(commune_a):
    family = get_or_create_family(UserFactory())
    credit_top_up(source_key="seed", family_id=family.pk, amount_cents=1000)
    jobs = [
        lambda: pay_from_wallet(
            source_key="checkout:42",
            family_id=family.pk,
            commune=commune_a,
            service_id=1,
            amount_cents=380,
            description="Repas",
        )
        for _ in range(10)
    ]
    results = run_in_parallel(jobs)
    assert not [r for r in results if isinstance(r, Exception)]
    assert len({r.transaction.pk for r in results}) == 1
    assert Account.objects.get(wallet__family=family, kind="general_pocket").balance_cents == 620
    call_command("verify_ledger")
