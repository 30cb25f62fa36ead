"""Gestion → Factures for the accountant: a month's totals per service beside the ledger's
(receivables charged, credited, settled: sums of Posting rows), an écart when they differ, the
CSV/XLSX exports equal to the page, the failed debits to follow up, the staff API; isolated per
commune and role; a constant number of queries whatever the number of invoices.

Data is built through services (collections recorded without a provider: tests.fixtures.billing
.start_collection / provider_says; the provider round trips are in test_collection.py)."""

from __future__ import annotations

import csv
import io
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from shared_apps.common.money import format_euros
from shared_apps.wallet.models import AccountKind, Posting, TransactionKind
from shared_apps.wallet.services import charge_receivable
from tenant_apps.billing.models import Invoice
from tenant_apps.billing.reports import month_report
from tenant_apps.billing.services.credit_notes import issue_credit_note
from tenant_apps.billing.services.invoicing import build_invoices
from tenants.models import Role
from tests.billing.invoicing import DECEMBER, JANUARY_2ND, book_december, cancel_in_time
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures.billing import provider_says, start_collection
from tests.fixtures.bookings import make_family

pytestmark = pytest.mark.django_db

PAGE = "/c/commune-a/gestion/factures/?mois=2026-12"
API = "/c/commune-a/api/v1/staff/invoices?month=2026-12"


def _families(commune, in_commune, canteen, count):
    return [make_family(commune, in_commune, canteen.service, children=1) for _ in range(count)]


@pytest.fixture
def manager(commune_a):
    user = UserFactory()
    MembershipFactory(user=user, commune=commune_a, role=Role.MANAGER)
    return user


@pytest.fixture
def month(commune_a, in_commune, canteen, parent, manager):
    """December of commune A: `parent` (one day cancelled in time) paid by debit; a second
    family's debit rejected, then an avoir deducted; a third family never collected."""
    reservations = book_december(commune_a, in_commune, canteen, parent)
    cancel_in_time(commune_a, in_commune, parent, reservations[0])
    rejected, untouched = _families(commune_a, in_commune, canteen, 2)
    book_december(commune_a, in_commune, canteen, rejected)
    book_december(commune_a, in_commune, canteen, untouched)
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        build_invoices(commune=commune_a, month=DECEMBER)
        paid = Invoice.objects.get(family_id=parent.family.pk)
        failed = Invoice.objects.get(family_id=rejected.family.pk)
    provider_says(start_collection(commune_a, paid), "payment_intent.succeeded")
    provider_says(
        start_collection(commune_a, failed),
        "payment_intent.payment_failed",
        failure_code="insufficient_funds",
    )
    # (its e-mail and PDF, queued after commit, are not sent here: test_credit_notes_api)
    with in_commune(commune_a):
        issue_credit_note(
            commune=commune_a,
            staff_user=manager,
            invoice_id=failed.pk,
            amount=100,
            reason="Repas non servi (grève)",
        )
    return {"paid": paid, "failed": failed, "rejected_family": rejected}


def _ledger_sums(commune, service_id) -> dict[str, int]:
    """Direct sums over the Posting rows of the commune's receivable accounts, per kind."""
    sums = dict.fromkeys(("charged", "credited", "settled"), 0)
    for posting in Posting.objects.filter(
        account__kind=AccountKind.RECEIVABLE,
        account__commune=commune,
        account__service_id=service_id,
    ).select_related("transaction"):
        kind = posting.transaction.kind
        if kind == TransactionKind.CHARGE:
            sums["charged"] -= posting.amount_cents
        elif kind == TransactionKind.CHARGE_CREDIT:
            sums["credited"] += posting.amount_cents
        elif kind == TransactionKind.COLLECTION:
            sums["settled"] += posting.amount_cents
    return sums


def test_the_totals_per_service_equal_the_ledger(month, commune_a, in_commune, canteen):
    with in_commune(commune_a):
        report = month_report(commune_a, DECEMBER)
        invoices = list(Invoice.objects.filter(month=DECEMBER).prefetch_related("lines"))
    (totals,) = report.totals
    ledger = _ledger_sums(commune_a, canteen.service.pk)

    assert (totals.ledger_charged, totals.ledger_credited, totals.ledger_settled) == (
        ledger["charged"],
        ledger["credited"],
        ledger["settled"],
    )
    lines = [line for invoice in invoices for line in invoice.lines.all()]
    assert totals.invoiced_charged == sum(x.amount_cents for x in lines if x.amount_cents > 0)
    # the cancellation's line and the avoir deducted from what the rejected family owes
    assert totals.invoiced_credited == 100 - sum(
        x.amount_cents for x in lines if x.amount_cents < 0
    )
    assert totals.invoiced_settled == month["paid"].total_cents == ledger["settled"]
    assert not totals.differs and not report.differs
    assert [r.invoice.number for r in report.failed] == [month["failed"].number]


def test_the_page_shows_the_ledger_and_an_ecart_when_they_differ(
    month, client, manager, commune_a, canteen
):
    client.force_login(manager)
    page = client.get(PAGE).content.decode()
    assert "Les factures et le grand livre concordent" in page and "Écart :" not in page

    # A day the ledger charged for December that no invoice carries (e.g. booked after the run).
    charge_receivable(
        source_key="test:missed",
        family_id=month["rejected_family"].family.pk,
        commune=commune_a,
        service_id=canteen.service.pk,
        amount_cents=380,
        description="Réservation oubliée",
        metadata={"month": "2026-12"},
    )
    page = client.get(PAGE).content.decode()
    assert "Écart</strong> entre les factures et le grand livre" in page
    assert f"Écart : net {format_euros(380)}, réglé {format_euros(0)}" in page


def test_the_failed_debits_say_the_reason_the_date_and_link_the_family_file(month, client, manager):
    client.force_login(manager)
    page = client.get(PAGE).content.decode()
    section = page.split('id="rejets"')[1].split("</section>")[0]
    failed = month["failed"]
    assert failed.number in section and month["paid"].number not in section
    assert f"/c/commune-a/gestion/familles/{failed.family_id}/" in section
    assert "motif : insufficient_funds" in section
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", section)  # when the bank said no
    assert format_euros(failed.total_cents - 100) in section  # what remains after the avoir


def _cells(html_row: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html_row)
    ]


def _euros(value) -> str:
    """A cell of the exports (a Decimal in the XLSX, "7,60" in the CSV) as the page prints it."""
    cents = round(float(str(value).replace(",", ".")) * 100)
    return format_euros(cents)


def test_the_exports_say_what_the_page_says(month, client, manager):
    client.force_login(manager)
    page = client.get(PAGE).content.decode()
    listing = page.split('id="toutes"')[1].split("</section>")[0]
    page_rows = {cells[0]: cells for cells in map(_cells, re.findall(r"<tr>(.*?)</tr>", listing))}

    xlsx = client.get(PAGE + "&format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == [
        "Factures",
        "Avoirs",
        "Paiements",
        "Prélèvements rejetés",
        "Totaux par service",
    ]
    invoices = list(book["Factures"].iter_rows(min_row=2, values_only=True))
    assert len(invoices) == 4  # three invoices, then the total
    for number, _month, family, _fid, _issued, total, credited, due, state, _why in invoices[:-1]:
        assert (
            page_rows[number]
            == [
                number,
                family,
                _euros(total),
                _euros(credited),
                _euros(due),
                state,
                *(["Avoirs de la facture " + number] if len(page_rows[number]) == 7 else []),
            ][: len(page_rows[number])]
        )
    assert {r[8] for r in invoices[:-1]} == {"Payée", "Prélèvement rejeté", "À payer"}
    payments = list(book["Paiements"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3]) for r in payments[:-1]] == [
        (month["paid"].number, "Prélèvement SEPA"),
        (month["failed"].number, "Prélèvement SEPA"),
    ]
    assert _euros(payments[-1][4]) == format_euros(month["paid"].total_cents)  # what came in
    notes = list(book["Avoirs"].iter_rows(min_row=2, values_only=True))
    assert notes[0][1] == month["failed"].number and _euros(notes[0][4]) == format_euros(100)

    for table, sheet in (("factures", "Factures"), ("totaux", "Totaux par service")):
        response = client.get(PAGE + f"&format=csv&tableau={table}")
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
        expected = list(book[sheet].iter_rows(values_only=True))
        assert len(rows) == len(expected)
        for got, want in zip(rows, expected, strict=True):
            assert [_norm(v) for v in got] == [_norm(v) for v in want]
    totals = page.split('id="totaux"')[1].split("</section>")[0]
    (service_row,) = list(book["Totaux par service"].iter_rows(min_row=2, values_only=True))
    assert _cells(re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", totals)[0])[0:8] == [
        _euros(v)
        for v in service_row[1:9][:3] + service_row[5:8] + service_row[4:5] + service_row[8:9]
    ]
    assert client.get(PAGE + "&format=csv&tableau=nope").status_code == 200  # the page, an error


def _norm(value) -> object:
    """A cell of either export: numbers ("19,00" in the CSV, 19 in the XLSX) as cents."""
    if value is None:
        return ""
    text = str(value)
    if re.fullmatch(r"-?\d+([.,]\d+)?", text):
        return round(float(text.replace(",", ".")) * 100)
    return text


def test_the_staff_api_says_the_same(month, manager, commune_a, in_commune):
    from tests.fixtures.clients import client_for

    body = client_for(manager).get(API).json()
    with in_commune(commune_a):
        report = month_report(commune_a, DECEMBER)
    assert [i["number"] for i in body["invoices"]] == [r.invoice.number for r in report.rows]
    assert [i["number"] for i in body["failed"]] == [month["failed"].number]
    assert body["failed"][0]["state"]["failure"].endswith("(motif : insufficient_funds)")
    (totals,) = body["totals"]
    assert totals["ledger_settled_cents"] == month["paid"].total_cents
    assert body["ledger_matches"] is True
    assert [n["amount_cents"] for n in body["credit_notes"]] == [100]
    bad = client_for(manager).get("/c/commune-a/api/v1/staff/invoices?month=2026-13")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"


def test_other_communes_parents_and_anonymous_are_refused(month, client, api, parent, commune_b):
    from tests.fixtures.clients import client_for

    staff_b = UserFactory()
    MembershipFactory(user=staff_b, commune=commune_b, role=Role.MANAGER)
    client.force_login(staff_b)
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE + "&format=xlsx").status_code == 403
    other = client.get("/c/commune-b/gestion/factures/?mois=2026-12&format=csv&tableau=factures")
    assert month["paid"].number not in other.content.decode("utf-8-sig")
    assert client_for(staff_b).get(API).status_code == 403
    b_api = client_for(staff_b).get("/c/commune-b/api/v1/staff/invoices?month=2026-12").json()
    assert b_api["invoices"] == [] and b_api["totals"] == []

    client.force_login(parent)
    assert client.get(PAGE + "&format=csv&tableau=factures").status_code == 403
    assert parent.api.get(API).status_code == 403
    client.logout()
    assert client.get(PAGE + "&format=xlsx").status_code == 302
    assert api.get(API).status_code == 401


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _more_invoices(commune, in_commune, canteen, count: int) -> list[Invoice]:
    """`count` more December invoices written directly (one line each, families that exist
    only as ids): the query count must not depend on them."""
    from shared_apps.families.models import Family
    from tenant_apps.billing.models import InvoiceCounter, InvoiceLine, InvoiceRun

    families = [Family.objects.create() for _ in range(count)]
    with in_commune(commune):
        run = InvoiceRun.objects.get(month=DECEMBER)
        counter = InvoiceCounter.objects.get(name="invoice")
        invoices = []
        for n in range(count):
            counter.last_number += 1
            invoice = Invoice.objects.create(
                number=f"2026-12-{counter.last_number:06d}",
                sequence=counter.last_number,
                run=run,
                family_id=families[n].pk,
                month=DECEMBER,
                issued_at=JANUARY_2ND,
                total_cents=380,
                addressee=f"Famille {n}",
            )
            InvoiceLine.objects.create(
                invoice=invoice,
                kind="charge",
                reservation_id=900_000 + n,
                child_id=900_000 + n,
                child_name="Enfant",
                date=DECEMBER,
                product_name=canteen.name,
                service_id=canteen.service.pk,
                label="Réservation",
                amount_cents=380,
            )
            invoices.append(invoice)
        counter.save()
    return invoices


def test_the_query_count_does_not_grow_with_the_invoices(
    month, client, manager, commune_a, in_commune, canteen
):
    client.force_login(manager)
    urls = [PAGE, PAGE + "&format=xlsx", PAGE + "&format=csv&tableau=paiements", API]
    from tests.fixtures.clients import client_for

    api = client_for(manager)

    def counts() -> list[int]:
        return [_count(api if url == API else client, url) for url in urls]

    counts()  # warm: the first request of a session reads a little more
    before = counts()
    extra = _more_invoices(commune_a, in_commune, canteen, 4)
    with in_commune(commune_a):
        start_collection(commune_a, extra[0], method="card")
        start_collection(commune_a, extra[1])
    provider_says(start_collection(commune_a, extra[2]), "payment_intent.payment_failed")
    assert counts() == before
    # Page, XLSX, CSV, API, whatever the number of invoices: who asks (session, user, role),
    # the invoices, their states, credit notes, lines, services, the ledger's postings, the
    # run, the attempts and their payments, the wallet's settlements, the audit entry.
    assert before == [16, 16, 16, 15], before
