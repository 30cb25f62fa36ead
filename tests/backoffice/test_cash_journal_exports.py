"""The accountant's exports: every table's total equals the ledger's, summed directly over the
postings (an independent computation), in the XLSX and in the CSV."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from openpyxl import load_workbook

from shared_apps.wallet import services as wallet
from shared_apps.wallet.models import POCKET_KINDS, AccountKind, Posting, TransactionKind
from tenants.models import Role
from tests.backoffice.cash_helpers import page_client, pay, staff
from tests.fixtures.bookings import PARIS, make_family

pytestmark = pytest.mark.django_db

EXPORTS = "/c/commune-a/gestion/regie/exports/"
PERIOD = "du=2026-12-01&au=2026-12-31"
START = datetime.datetime(2026, 12, 1, tzinfo=PARIS)
END = datetime.datetime(2027, 1, 1, tzinfo=PARIS)


def _sum(**lookups) -> int:
    """A direct sum over the ledger's postings of the period."""
    return (
        Posting.objects.filter(
            transaction__created_at__gte=START, transaction__created_at__lt=END, **lookups
        ).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )


@pytest.fixture
def december(frozen, commune_a, commune_b, in_commune, canteen):
    """A month of money around commune A's canteen, and some that is not A's."""
    agent = staff(commune_a)
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    family_id, service_id = parent.family.pk, canteen.service.pk
    frozen.move_to(datetime.datetime(2026, 11, 20, 10, tzinfo=PARIS))
    pay(commune_a, in_commune, agent, parent, canteen.service, 9900)  # November: not counted
    frozen.move_to(datetime.datetime(2026, 12, 3, 10, tzinfo=PARIS))
    pay(commune_a, in_commune, agent, parent, canteen.service, 2500, "cash")
    pay(commune_a, in_commune, agent, parent, canteen.service, 1550, "cheque")
    wallet.credit_top_up(
        source_key="topup:a",
        family_id=family_id,
        amount_cents=3000,
        commune=commune_a,
        service_id=service_id,
    )
    wallet.credit_top_up(source_key="topup:general", family_id=family_id, amount_cents=1000)
    wallet.credit_top_up(
        source_key="topup:b",
        family_id=family_id,
        amount_cents=2000,
        commune=commune_b,
        service_id=service_id,
    )
    wallet.pay_from_wallet(
        source_key="order:1",
        family_id=family_id,
        commune=commune_a,
        service_id=service_id,
        amount_cents=1200,
        description="Réservations",
    )
    wallet.refund_to_service_pocket(
        source_key="refund:1",
        family_id=family_id,
        commune=commune_a,
        service_id=service_id,
        amount_cents=380,
        description="Annulation",
    )
    wallet.post_transaction(  # bookings paid by card (as fulfil_checkout does)
        source_key="cardpay:1:1",
        kind=TransactionKind.SPEND,
        lines=[
            (wallet.card_clearing_account(), -760),
            (wallet.revenue_account(commune_a, service_id), 760),
        ],
        description="Réservations payées par carte",
        commune=commune_a,
        service_id=service_id,
    )
    pocket = wallet.service_pocket(wallet.wallet_of_family(family_id), commune_a, service_id)
    wallet.post_transaction(  # a top-up refunded to the card (as refund_to_card does)
        source_key="cardrefund:1",
        kind=TransactionKind.CARD_REFUND,
        lines=[(pocket, -500), (wallet.card_clearing_account(), 500)],
        description="Remboursement sur la carte bancaire",
        wallet=pocket.wallet,
        commune=commune_a,
        service_id=service_id,
    )
    return staff(commune_a, Role.MANAGER)


def _ledger_totals(commune) -> dict[str, int]:
    counter = -_sum(account__kind=AccountKind.COUNTER, account__commune=commune)
    card_in = -_sum(
        account__kind=AccountKind.CARD_CLEARING,
        transaction__commune=commune,
        transaction__kind__in=[TransactionKind.TOP_UP, TransactionKind.SPEND],
    )
    refunds = -_sum(
        account__kind=AccountKind.REVENUE,
        transaction__kind=TransactionKind.REFUND,
        account__commune=commune,
    ) + _sum(
        account__kind=AccountKind.CARD_CLEARING,
        transaction__kind=TransactionKind.CARD_REFUND,
        transaction__commune=commune,
    )
    return {
        "payments": counter + card_in,
        "refunds": refunds,
        "movements": _sum(account__kind__in=POCKET_KINDS, transaction__commune=commune),
        "revenue": _sum(account__kind=AccountKind.REVENUE, account__commune=commune),
    }


def _cents(value) -> int:
    return int(Decimal(str(value).replace(",", ".")) * 100)


def test_the_xlsx_totals_equal_the_ledger(december, commune_a):
    ledger = _ledger_totals(commune_a)
    # What the scenario put in, by hand: 25 + 15,50 at the counter, 30 by card to A's pocket,
    # 7,60 of bookings paid by card; 3,80 back to the pocket, 5 back to the card; the pocket
    # moved +25 +15,50 +30 -12 +3,80 -5; the canteen earned 12 + 7,60 and gave back 3,80.
    assert ledger == {"payments": 7810, "refunds": 880, "movements": 5730, "revenue": 1580}

    response = page_client(december).get(f"{EXPORTS}?{PERIOD}&format=xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    sheets = {
        "payments": "Paiements",
        "refunds": "Remboursements",
        "movements": "Mouvements des porte-monnaie",
        "revenue": "Recettes par service",
    }
    for key, title in sheets.items():
        rows = list(workbook[title].iter_rows(values_only=True))
        header, body, total = rows[0], rows[1:-1], rows[-1]
        assert total[0] == "Total"
        column = len(header) - 1
        assert _cents(total[column]) == ledger[key], key
        assert sum(_cents(row[column]) for row in body) == ledger[key], key
    payments = list(workbook["Paiements"].iter_rows(values_only=True))[1:-1]
    assert {(row[2], _cents(row[-1])) for row in payments} == {
        ("Espèces", 2500),
        ("Chèque", 1550),
        ("Carte bancaire", 3000),
        ("Carte bancaire", 760),
    }
    assert {row[6] for row in payments if row[2] in ("Espèces", "Chèque")} == {
        "R-2026-000002",
        "R-2026-000003",
    }
    # Amounts are numbers the accountant can add up, negative ones included (not text).
    movements = list(workbook["Mouvements des porte-monnaie"].iter_rows(values_only=True))
    assert -12 in [row[-1] for row in movements[1:]]
    revenue = list(workbook["Recettes par service"].iter_rows(values_only=True))
    assert revenue[1][:1] == ("Cantine",)
    assert [_cents(v) for v in revenue[1][1:]] == [1960, 380, 1580]


@pytest.mark.parametrize("table", ["paiements", "remboursements", "mouvements", "recettes"])
def test_each_csv_total_equals_the_ledger(december, commune_a, table):
    ledger = _ledger_totals(commune_a)
    key = {
        "paiements": "payments",
        "remboursements": "refunds",
        "mouvements": "movements",
        "recettes": "revenue",
    }[table]
    response = page_client(december).get(f"{EXPORTS}?{PERIOD}&format=csv&tableau={table}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[-1][0] == "Total"
    assert _cents(rows[-1][-1]) == ledger[key]
    assert sum(_cents(row[-1]) for row in rows[1:-1]) == ledger[key]
    if table == "mouvements":  # French decimals, negative amounts not turned into text
        assert "-12,00" in [row[-1] for row in rows]


def test_the_exports_page_shows_the_ledger_totals(december, commune_a):
    page = page_client(december).get(f"{EXPORTS}?{PERIOD}").content.decode()
    for cents in ("78,10", "8,80", "57,30", "15,80"):
        assert f"{cents}\u00a0€" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("du=2026-12-31&au=2026-12-01", "La fin de la période précède son début."),
        ("du=2026-01-01&au=2027-06-01", "Une période d’un an au plus."),
        ("du=janvier&au=2026-12-01", "Date attendue au format AAAA-MM-JJ."),
        (f"{PERIOD}&format=csv&tableau=tout", "Tableau : paiements"),
    ],
)
def test_a_bad_period_is_a_french_400(frozen, commune_a, query, message):
    manager = staff(commune_a, Role.MANAGER)
    response = page_client(manager).get(f"{EXPORTS}?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_exports_cost_the_same_queries_for_3_or_30_payments(
    frozen, commune_a, in_commune, canteen
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager, agent = staff(commune_a, Role.MANAGER), staff(commune_a)
    families = [make_family(commune_a, in_commune, canteen.service, children=1) for _ in range(3)]
    client = page_client(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"{EXPORTS}?{PERIOD}&format=xlsx").status_code == 200
        return len(context.captured_queries)

    for i in range(3):
        pay(commune_a, in_commune, agent, families[i], canteen.service, 100 + i)
    queries()  # warm caches
    small = queries()
    for i in range(27):
        pay(commune_a, in_commune, agent, families[i % 3], canteen.service, 200 + i)
    assert queries() == small <= 10, small  # 10: the audit entry of the export
