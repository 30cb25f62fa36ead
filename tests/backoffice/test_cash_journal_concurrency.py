"""Counter payments taken at the same instant on real connections: receipt numbers have no gap
and no duplicate, a retry never pays twice, a closing counts exactly what it freezes."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
import time_machine
from django_tenants.utils import tenant_context

from shared_apps.wallet.models import AccountKind, LedgerTransaction, Posting
from tenant_apps.backoffice.models import DayClosing, Receipt, ReceiptCounter
from tenant_apps.backoffice.services import CounterReceipt, DayClosed, close_day
from tests.backoffice.cash_helpers import pay, staff
from tests.fixtures.bookings import NOW, make_family
from tests.parallel import run_in_parallel

# Real connections: these tests share one xdist worker (pyproject's `--dist loadgroup`).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("real_connections")]


def _in_parallel(commune, jobs):
    def context():
        stack = ExitStack()
        stack.enter_context(time_machine.travel(NOW, tick=False))
        stack.enter_context(tenant_context(commune))
        return stack

    return run_in_parallel(jobs, context=context)


def _pay_job(commune, agent, parent, service, cents, reference):
    def job():
        # tenant_context is already entered by the job's context: in_commune is a no-op here.
        return pay(commune, _same, agent, parent, service, cents, "cash", reference)

    return job


def _same(commune):
    return tenant_context(commune)


def test_twelve_agents_at_once_get_twelve_consecutive_numbers(commune_a, in_commune, canteen):
    agents = [staff(commune_a) for _ in range(4)]
    families = [make_family(commune_a, in_commune, canteen.service, children=1) for _ in range(3)]
    jobs = [
        _pay_job(commune_a, agents[i % 4], families[i % 3], canteen.service, 100 * (i + 1), f"R{i}")
        for i in range(12)
    ]
    # Two retries of the first payment (a double click, a lost answer), at the same instant.
    jobs += [_pay_job(commune_a, agents[0], families[0], canteen.service, 100, "R0")] * 2

    results = _in_parallel(commune_a, jobs)

    assert all(isinstance(r, CounterReceipt) for r in results), results
    assert sum(r.created for r in results) == 12
    assert len({r.receipt.pk for r in results}) == 12  # the retries got the first receipt
    with in_commune(commune_a):
        numbers = sorted(Receipt.objects.values_list("number", flat=True))
        assert numbers == [f"R-2026-{n:06d}" for n in range(1, 13)]
        assert ReceiptCounter.objects.get(year=2026).last_number == 12
        receipts_total = sum(Receipt.objects.values_list("amount_cents", flat=True))
    assert LedgerTransaction.objects.filter(kind="counter_credit").count() == 12
    counter = Posting.objects.filter(account__kind=AccountKind.COUNTER, account__commune=commune_a)
    assert -sum(counter.values_list("amount_cents", flat=True)) == receipts_total == 7800


def test_a_closing_racing_payments_freezes_exactly_what_was_taken(commune_a, in_commune, canteen):
    agent = staff(commune_a)
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    jobs = [_pay_job(commune_a, agent, parent, canteen.service, 150, f"C{i}") for i in range(8)]
    jobs.insert(
        4,
        lambda: close_day(
            commune=commune_a, closed_by=agent, is_manager=False, day=NOW.date(), agent_id=agent.pk
        ),
    )

    results = _in_parallel(commune_a, jobs)

    paid = [r for r in results if isinstance(r, CounterReceipt)]
    refused = [r for r in results if isinstance(r, DayClosed)]
    assert len(paid) + len(refused) == 8, results
    with in_commune(commune_a):
        closing = DayClosing.objects.get()
        assert closing.payments_count == len(paid) == Receipt.objects.count()
        assert closing.total_cents == 150 * len(paid)
        numbers = sorted(Receipt.objects.values_list("sequence", flat=True))
    assert numbers == list(range(1, len(paid) + 1))  # refused payments took no number
    assert LedgerTransaction.objects.filter(kind="counter_credit").count() == len(paid)
