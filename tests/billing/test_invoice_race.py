"""Invoicing runs racing on real parallel connections: no gap, no duplicate, invoiced once."""

from __future__ import annotations

import datetime
from contextlib import ExitStack

import pytest
import time_machine
from django_tenants.utils import tenant_context

from tenant_apps.billing.models import Invoice, InvoiceCounter, InvoiceLine, InvoiceRun
from tenant_apps.billing.services.invoicing import RunResult, build_invoices
from tenant_apps.bookings.models import Reservation
from tests.billing.invoicing import DECEMBER, TUE, book_december
from tests.fixtures.bookings import make_family
from tests.parallel import run_in_parallel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("real_connections")]

JANUARY = datetime.date(2027, 1, 1)
JAN_5, JAN_7 = datetime.date(2027, 1, 5), datetime.date(2027, 1, 7)
FEBRUARY_2ND = datetime.datetime(2027, 2, 2, 6, tzinfo=datetime.UTC)


def test_twin_runs_of_two_months_number_without_gap_or_duplicate(commune_a, in_commune, canteen):
    families = [make_family(commune_a, in_commune, canteen.service, children=1) for _ in range(6)]
    for parent in families:
        book_december(commune_a, in_commune, canteen, parent, days=(TUE, JAN_5, JAN_7))

    def context():
        stack = ExitStack()
        stack.enter_context(time_machine.travel(FEBRUARY_2ND, tick=False))
        stack.enter_context(tenant_context(commune_a))
        return stack

    results = run_in_parallel(
        [
            lambda month=month: build_invoices(commune=commune_a, month=month)
            for month in (DECEMBER, JANUARY, DECEMBER, JANUARY, DECEMBER, JANUARY)
        ],
        context=context,
    )

    assert all(isinstance(r, RunResult) for r in results), results
    assert sorted(r.created for r in results) == [False] * 4 + [True] * 2
    with in_commune(commune_a):
        assert sorted(InvoiceRun.objects.values_list("month", flat=True)) == [DECEMBER, JANUARY]
        invoices = list(Invoice.objects.order_by("sequence"))
        assert [i.sequence for i in invoices] == list(range(1, 13))  # no gap, no duplicate
        assert len({i.number for i in invoices}) == 12
        assert InvoiceCounter.objects.get().last_number == 12
        for month in (DECEMBER, JANUARY):
            of_month = [i for i in invoices if i.month == month]
            assert sorted(i.family_id for i in of_month) == sorted(p.family.pk for p in families)
            assert all(i.number.startswith(f"{month:%Y-%m}-") for i in of_month)
        # Every reservation on exactly one invoice line.
        assert InvoiceLine.objects.filter(kind="charge").count() == Reservation.objects.count()
        assert sorted(InvoiceLine.objects.values_list("reservation_id", flat=True)) == sorted(
            Reservation.objects.values_list("pk", flat=True)
        )
