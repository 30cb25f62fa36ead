"""Monthly invoices: one run per commune and month, each family's lines per child, day and
product with the credits of cancellations, numbered without gap, as a PDF equal to the lines,
listed in the family's account; an issued invoice never changes."""

from __future__ import annotations

import io
import re

import pytest
import time_machine
from pypdf import PdfReader

from shared_apps.common.money import format_euros
from shared_apps.common.validation import InvalidInput
from shared_apps.wallet.services import receivable_balances
from tenant_apps.billing.models import Invoice, InvoiceCounter, InvoiceLine, InvoiceRun
from tenant_apps.billing.services.invoicing import build_invoices
from tenant_apps.billing.tasks import build_last_month_invoices_everywhere
from tests.billing.invoicing import (
    DECEMBER,
    FRI,
    JANUARY_2ND,
    THU,
    TUE,
    book_december,
    cancel_in_time,
)
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures.bookings import make_family

pytestmark = pytest.mark.django_db


@pytest.fixture
def families(commune_a, in_commune, canteen, parent):
    """`parent` (two children, Tue/Thu/Fri by direct debit, one child's Thursday cancelled in
    time) and a second family (one child, Tuesday only)."""
    booked = book_december(commune_a, in_commune, canteen, parent)
    thursday = next(r for r in booked if r.date == THU and r.child_id == parent.kids[0].pk)
    cancel_in_time(commune_a, in_commune, parent, thursday)
    other = make_family(commune_a, in_commune, canteen.service, children=1)
    book_december(commune_a, in_commune, canteen, other, days=(TUE,))
    return parent, other


def _build(commune, in_commune, now=JANUARY_2ND):
    with time_machine.travel(now, tick=False), in_commune(commune):
        return build_invoices(commune=commune, month=DECEMBER)


def test_each_family_gets_one_invoice_numbered_in_sequence(
    families, commune_a, in_commune, canteen
):
    parent, other = families
    result = _build(commune_a, in_commune)

    assert result.created
    assert [(i.number, i.family_id) for i in result.invoices] == sorted(
        [("2026-12-000001", min(parent.family.pk, other.family.pk)),
         ("2026-12-000002", max(parent.family.pk, other.family.pk))]
    )  # fmt: skip
    with in_commune(commune_a):
        invoice = Invoice.objects.get(family_id=parent.family.pk)
        lines = list(invoice.lines.order_by("child_id", "date", "kind"))
        assert InvoiceCounter.objects.get().last_number == 2
    first, second = parent.kids
    # Per child, day and product; the cancelled Thursday charged and credited back.
    assert [(ln.child_id, ln.date, ln.kind) for ln in lines] == [
        (first.pk, TUE, "charge"),
        (first.pk, THU, "charge"),
        (first.pk, THU, "credit"),
        (first.pk, FRI, "charge"),
        (second.pk, TUE, "charge"),
        (second.pk, THU, "charge"),
        (second.pk, FRI, "charge"),
    ]
    assert all(ln.product_name == "Réservation repas cantine" for ln in lines)
    assert (
        invoice.total_cents == sum(ln.amount_cents for ln in lines) == 5 * 380
    )  # six days, one given back
    # What the invoice asks for is what the ledger says the family owes the service.
    assert (
        receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 5 * 380
    )  # six days, one given back


def test_running_twice_invoices_once(families, commune_a, in_commune):
    first = _build(commune_a, in_commune)
    again = _build(commune_a, in_commune)

    assert not again.created and again.run.pk == first.run.pk
    assert [i.pk for i in again.invoices] == [i.pk for i in first.invoices]
    with in_commune(commune_a):
        assert Invoice.objects.count() == 2 and InvoiceRun.objects.count() == 1
        assert InvoiceCounter.objects.get().last_number == 2
        assert InvoiceLine.objects.count() == 8


def test_a_month_not_over_is_not_invoiced(families, commune_a, in_commune):
    import datetime

    with pytest.raises(InvalidInput):
        _build(commune_a, in_commune, now=datetime.datetime(2026, 12, 31, 12, tzinfo=datetime.UTC))
    with in_commune(commune_a):
        assert not InvoiceRun.objects.exists()


def test_an_issued_invoice_never_changes(families, commune_a, in_commune):
    _build(commune_a, in_commune)
    with in_commune(commune_a):
        invoice = Invoice.objects.first()
        invoice.total_cents = 1
        with pytest.raises(ValueError, match="never changes"):
            invoice.save()
        assert Invoice.objects.get(pk=invoice.pk).total_cents != 1


def _pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_says_exactly_the_lines(families, client, commune_a, in_commune):
    parent, _ = families
    _build(commune_a, in_commune)
    with in_commune(commune_a):
        invoice = Invoice.objects.get(family_id=parent.family.pk)
        lines = list(invoice.lines.all())
    client.force_login(parent)

    text = _pdf_text(client.get(f"/c/commune-a/factures/{invoice.pk}/pdf/"))

    normalized = re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))
    assert f"Facture {invoice.number}" in normalized
    euros = lambda cents: format_euros(cents).replace("\u202f", " ").replace("\xa0", " ")  # noqa: E731
    rows = re.findall(
        r"(\d\d/\d\d/\d{4}) Réservation repas cantine (.+?) (-?[\d ]+,\d\d €)", normalized
    )
    assert sorted((d, label, amount) for d, label, amount in rows) == sorted(
        (f"{ln.date:%d/%m/%Y}", ln.label, euros(ln.amount_cents)) for ln in lines
    )
    for kid in parent.kids:
        assert f"{kid.first_name} {kid.last_name}" in normalized
    assert f"Total à payer : {euros(invoice.total_cents)}" in normalized


def test_the_family_lists_and_downloads_only_its_own_invoices(
    families, client, api, commune_a, commune_b, in_commune
):
    parent, other = families
    _build(commune_a, in_commune)
    with in_commune(commune_a):
        mine = Invoice.objects.get(family_id=parent.family.pk)
        theirs = Invoice.objects.get(family_id=other.family.pk)
    client.force_login(parent)
    page = client.get("/c/commune-a/factures/").content.decode()
    assert mine.number in page and theirs.number not in page
    assert client.get(f"/c/commune-a/factures/{theirs.pk}/pdf/").status_code == 404
    assert client.get(f"/c/commune-b/factures/{mine.pk}/pdf/").status_code == 404
    assert mine.number not in client.get("/c/commune-b/factures/").content.decode()

    listed = parent.api.get("/c/commune-a/api/v1/invoices").json()
    assert [i["number"] for i in listed] == [mine.number]
    detail = parent.api.get(f"/c/commune-a/api/v1/invoices/{mine.pk}").json()
    assert sum(line["amount_cents"] for line in detail["lines"]) == detail["total_cents"]
    assert parent.api.get(f"/c/commune-a/api/v1/invoices/{theirs.pk}").status_code == 404
    assert parent.api.get(f"/c/commune-b/api/v1/invoices/{mine.pk}").status_code == 404
    assert parent.api.get("/c/commune-a/api/v1/invoices/99999999999999999999").status_code == 404

    staff_b = UserFactory()
    MembershipFactory(user=staff_b, commune=commune_b)
    client.force_login(staff_b)
    assert client.get(f"/c/commune-b/factures/{mine.pk}/pdf/").status_code == 404
    assert client.get(f"/c/commune-a/factures/{mine.pk}/pdf/").status_code == 404

    client.logout()
    assert client.get(f"/c/commune-a/factures/{mine.pk}/pdf/").status_code == 302
    assert api.get("/c/commune-a/api/v1/invoices").status_code == 401


def test_the_list_query_count_does_not_grow(
    families, commune_a, in_commune, django_assert_max_num_queries
):
    parent, _ = families
    _build(commune_a, in_commune)
    # search_path, token, user, family, the invoices, their collection attempts, their payments
    # (none yet): the same for 36 invoices.
    with django_assert_max_num_queries(8):
        response = parent.api.get("/c/commune-a/api/v1/invoices")
    assert response.status_code == 200


def test_the_beat_invoices_last_month_in_each_commune_once(
    families, commune_a, commune_b, in_commune
):
    with time_machine.travel(JANUARY_2ND, tick=False):
        build_last_month_invoices_everywhere()
        build_last_month_invoices_everywhere()  # the next morning's run: nothing new
    with in_commune(commune_a):
        assert list(InvoiceRun.objects.values_list("month", "invoices_count")) == [(DECEMBER, 2)]
        assert Invoice.objects.count() == 2
    with in_commune(commune_b):  # its own run, in its own schema, with nothing to invoice
        assert list(InvoiceRun.objects.values_list("month", "invoices_count")) == [(DECEMBER, 0)]
        assert not Invoice.objects.exists()


def test_each_family_is_e_mailed_its_invoice_once_issued(
    families, commune_a, in_commune, send_mail_now
):
    from django.core import mail

    parent, other = families
    with send_mail_now():
        result = _build(commune_a, in_commune)
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {parent.email, other.email}
    mine = next(i for i in result.invoices if i.family_id == parent.family.pk)
    assert by_recipient[parent.email].subject == (
        f"Votre facture décembre 2026 (Commune A) : {mine.number}"
    )
    assert "/c/commune-a/factures/" in by_recipient[parent.email].body
    with send_mail_now():
        _build(commune_a, in_commune)  # the second run issues nothing, e-mails nobody
    assert len(mail.outbox) == 2


def test_a_refund_written_elsewhere_is_credited_before_invoicing(
    families, commune_a, in_commune, canteen
):
    """A day re-settled by another writer (a sibling's card order released, an attendance
    correction) raised a direct-debit place's refund without crediting the ledger: invoicing
    credits what is missing, so what is invoiced is what the ledger says is owed."""
    from django.core.management import call_command

    from tenant_apps.bookings.models import Reservation

    parent, _ = families
    with in_commune(commune_a):
        place = Reservation.objects.filter(family_id=parent.family.pk, status="booked").first()
        Reservation.objects.filter(pk=place.pk).update(refund_cents=100)
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 5 * 380

    _build(commune_a, in_commune)

    with in_commune(commune_a):
        invoice = Invoice.objects.get(family_id=parent.family.pk)
    assert invoice.total_cents == 5 * 380 - 100
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == 5 * 380 - 100
    call_command("verify_ledger")
