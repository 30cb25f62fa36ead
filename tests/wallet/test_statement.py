"""The family's statement (relevé) for a period across its communes and payment methods, and
its yearly childcare attestation (CGI art. 200 quater B: children under 6 on 1 January; garderie,
périscolaire, centre de loisirs, not the canteen's meals), as PDFs equal to the data; another
family's never appear; bad periods are a clear 400."""

from __future__ import annotations

import io
import re

import pytest
import time_machine
from pypdf import PdfReader

from demo.builders import enrol_family
from shared_apps.common.money import format_euros
from shared_apps.families.services import add_child
from shared_apps.wallet.selectors import history_of, pockets_of
from shared_apps.wallet.services import credit_top_up
from tenant_apps.billing.models import Invoice
from tenant_apps.billing.services.collection import pay_invoice_from_wallet
from tenant_apps.billing.services.credit_notes import issue_credit_note
from tenant_apps.billing.services.invoicing import build_invoices
from tenant_apps.bookings.services.cart import add_to_cart
from tenant_apps.bookings.services.checkout import checkout
from tenant_apps.catalog.models import Service, ServiceKind
from tenants.models import Role
from tests.billing.invoicing import DECEMBER, FRI, JANUARY_2ND, THU, TUE, book_december
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures.bookings import NOW, _agent, make_family, school_days_product

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def _euros(cents: int) -> str:
    return format_euros(cents).replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def garderie(commune_a, in_commune):
    with in_commune(commune_a):
        service = Service.objects.create(
            kind=ServiceKind.GARDERIE, name="Garderie", payment_methods=["wallet", "card"]
        )
        product = school_days_product(service, name="Garderie du soir", price_cents=250)
    return product


def _book(commune, in_commune, parent, product, kids, days, method="wallet"):
    with time_machine.travel(NOW, tick=False), in_commune(commune):
        add_to_cart(
            commune=commune,
            user=parent,
            product_id=product.pk,
            child_ids=[k.pk for k in kids],
            dates=list(days),
        )
        return checkout(commune=commune, user=parent, payment_method=method).reservations


@pytest.fixture
def life(commune_a, in_commune, canteen, garderie, parent):
    """`parent`'s December: canteen by direct debit (invoiced, a credit note, paid from the
    wallet in January), garderie by wallet for a young child (born 2022) and an older one."""
    young = add_child(
        user=parent,
        data={
            "last_name": parent.last_name,
            "first_name": "Petit",
            "birth_date": "2022-05-04",
            "relation": "mother",
            "school_class": "PS",
        },
    )
    enrol_family(
        commune=commune_a,
        service=garderie.service,
        parent=parent,
        children=[young, parent.kids[0]],
        decided_by=_agent(),
    )
    enrol_family(
        commune=commune_a,
        service=canteen.service,
        parent=parent,
        children=[young],
        decided_by=_agent(),
    )
    credit_top_up(
        source_key="statement-general",
        family_id=parent.family.pk,
        commune=None,
        service_id=None,
        amount_cents=5_000,
    )
    book_december(commune_a, in_commune, canteen, parent)
    other = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=700)
    book_december(commune_a, in_commune, canteen, other, days=(TUE,))
    parent.other = other
    _book(commune_a, in_commune, parent, garderie, [young, parent.kids[0]], (TUE, THU))
    _book(commune_a, in_commune, parent, canteen, [young], (FRI,), method="wallet")
    manager = UserFactory()
    MembershipFactory(user=manager, commune=commune_a, role=Role.MANAGER)
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        build_invoices(commune=commune_a, month=DECEMBER)
        invoice = Invoice.objects.get(family_id=parent.family.pk)
        note = issue_credit_note(
            commune=commune_a,
            staff_user=manager,
            invoice_id=invoice.pk,
            amount=120,
            reason="Repas non servi",
        )
        pay_invoice_from_wallet(commune=commune_a, user=parent, invoice_id=invoice.pk)
    parent.young = young
    return invoice, note


def test_the_statement_says_every_movement_of_the_period(
    life, client, commune_a, in_commune, canteen, parent
):
    invoice, note = life
    other = parent.other
    client.force_login(parent)

    text = _text(client.get("/porte-monnaie/releve/?du=2026-12-01&au=2027-01-31"))

    postings = list(history_of(parent.family.pk))
    assert postings and all(p.transaction.description in text for p in postings)
    balance = sum(p.balance_cents for p in pockets_of(parent.family.pk))
    assert f"Solde à la fin de la période : {_euros(balance)}" in text
    assert f"Solde au début de la période : {_euros(0)}" in text
    assert invoice.number in text and note.number in text and "Repas non servi" in text
    # 3 canteen days × 2 children by debit, 2 garderie days × 2 children, 1 canteen day by wallet
    assert "Réservations (11)" in text
    assert text.count("Garderie du soir") == 4
    assert "Prélèvement (facture mensuelle)" in text and "Porte-monnaie" in text
    with in_commune(commune_a):
        theirs = Invoice.objects.get(family_id=other.family.pk)
    assert theirs.number not in text  # and its reservation is not among the 11 above

    # Only the period: January alone has the invoice's payment, not December's bookings.
    january = _text(client.get("/porte-monnaie/releve/?du=2027-01-01&au=2027-01-31"))
    assert "Réservations" not in january
    assert f"Facture {invoice.number} payée avec le porte-monnaie" in january


@pytest.mark.parametrize(
    "query, field",
    [
        ("du=2026-13-01&au=2027-01-31", "du"),
        ("du=2027-01-31&au=2026-12-01", "au"),
        ("du=2025-01-01&au=2026-12-31", "au"),
        ("du=1900-01-01&au=2026-12-31", "du"),
        ("au=2026-12-31", "du"),
    ],
)
def test_a_bad_period_is_a_clear_error(client, parent, query, field):
    client.force_login(parent)
    response = client.get(f"/porte-monnaie/releve/?{query}")
    assert response.status_code == 400
    assert f'id="{field}-erreur"' in response.content.decode()


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get("/porte-monnaie/releve/?du=2026-12-01&au=2026-12-31").status_code == 302
    assert client.get("/porte-monnaie/attestation-frais-de-garde/2026/").status_code == 302


def test_the_attestation_counts_paid_childcare_of_children_under_six(
    life, client, commune_a, garderie, parent
):
    client.force_login(parent)

    text = _text(client.get("/porte-monnaie/attestation-frais-de-garde/2026/"))

    assert "Article 200 quater B du code général des impôts" in text
    assert "moins de 6 ans" in text
    young = parent.young
    assert f"{young.first_name} {young.last_name}" in text
    # Two garderie evenings of the young child; the older children and the canteen are not.
    assert re.search(rf"{young.first_name} {young.last_name} Garderie 2 {_euros(500)}", text)
    assert f"Total attesté : {_euros(500)}" in text
    assert parent.kids[0].first_name not in text.split("Enfants concernés")[1]
    assert "Cantine" not in text.replace("cantine", "")

    # Another year: nothing paid; a family without young children: nothing to attest.
    assert "Total attesté" not in _text(
        client.get("/porte-monnaie/attestation-frais-de-garde/2025/")
    )
    stranger = UserFactory()
    client.force_login(stranger)
    stranger_text = _text(client.get("/porte-monnaie/attestation-frais-de-garde/2026/"))
    assert young.first_name not in stranger_text and "Aucun enfant" in stranger_text
    assert client.get("/porte-monnaie/attestation-frais-de-garde/1999/").status_code == 404


def test_the_statement_reads_a_constant_number_of_queries(
    life, client, parent, django_assert_max_num_queries
):
    client.force_login(parent)
    # 19 with one commune, whatever the number of movements: session, user, family, wallet,
    # postings, after-period sum, pockets, payments, then per commune: search path,
    # reservations, children, invoices, their states, credit notes.
    with django_assert_max_num_queries(19):
        response = client.get("/porte-monnaie/releve/?du=2026-12-01&au=2027-01-31")
    assert response.status_code == 200
