"""The attestation de frais de garde counts the days of care of the year (their dates), once
actually paid, whenever paid: December's garderie invoiced and paid in January counts for
December's year, not January's; an unpaid invoice counts nothing; its credit notes are
deducted; the PDF says that CAF aids are not deducted."""

from __future__ import annotations

import datetime
import io
import re

import pytest
import time_machine
from pypdf import PdfReader

from demo.builders import enrol_family
from shared_apps.common.money import format_euros
from shared_apps.families.services import add_child
from shared_apps.wallet.services import credit_top_up
from shared_apps.wallet.statements import childcare_attestation
from tenant_apps.billing.models import Invoice
from tenant_apps.billing.services.collection import pay_invoice_from_wallet
from tenant_apps.billing.services.credit_notes import issue_credit_note
from tenant_apps.billing.services.invoicing import build_invoices
from tenant_apps.bookings.services.cart import add_to_cart
from tenant_apps.bookings.services.checkout import checkout
from tenant_apps.catalog.models import Service, ServiceKind
from tenants.models import Role
from tests.billing.invoicing import DECEMBER, JANUARY_2ND, THU, TUE
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures.billing import give_mandate
from tests.fixtures.bookings import NOW, _agent, school_days_product

pytestmark = pytest.mark.django_db

PAID_ON = datetime.datetime(2027, 1, 12, 9, tzinfo=datetime.UTC)


@pytest.fixture
def garderie(commune_a, in_commune):
    with in_commune(commune_a):
        service = Service.objects.create(
            kind=ServiceKind.GARDERIE,
            name="Garderie",
            payment_methods=["wallet", "card", "direct_debit"],
        )
        product = school_days_product(service, name="Garderie du soir", price_cents=250)
    return product


@pytest.fixture
def invoiced(commune_a, in_commune, garderie, parent):
    """`parent`'s young child (born 2022) at the garderie on two December evenings, by direct
    debit, invoiced on 2 January; returns the invoice (unpaid)."""
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
        children=[young],
        decided_by=_agent(),
    )
    give_mandate(commune_a, parent.family.pk)
    with time_machine.travel(NOW, tick=False), in_commune(commune_a):
        add_to_cart(
            commune=commune_a,
            user=parent,
            product_id=garderie.pk,
            child_ids=[young.pk],
            dates=[TUE, THU],
        )
        checkout(commune=commune_a, user=parent, payment_method="direct_debit")
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        build_invoices(commune=commune_a, month=DECEMBER)
        invoice = Invoice.objects.get(family_id=parent.family.pk)
    parent.young = young
    return invoice


def _text(client, year: int, user) -> str:
    client.force_login(user)  # in the test's time (sessions expire)
    response = client.get(f"/porte-monnaie/attestation-frais-de-garde/{year}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def _euros(cents: int) -> str:
    return format_euros(cents).replace("\u202f", " ").replace("\xa0", " ")


def _pay(commune, in_commune, parent, invoice):
    credit_top_up(
        source_key="attestation-top-up",
        family_id=parent.family.pk,
        commune=None,
        service_id=None,
        amount_cents=5_000,
    )
    with time_machine.travel(PAID_ON, tick=False), in_commune(commune):
        pay_invoice_from_wallet(commune=commune, user=parent, invoice_id=invoice.pk)


def test_a_december_invoice_paid_in_january_counts_for_december(
    invoiced, client, commune_a, in_commune, parent
):
    young = f"{parent.young.first_name} {parent.young.last_name}"
    with time_machine.travel(PAID_ON, tick=False):  # invoiced, not paid: nothing to attest
        assert childcare_attestation(parent.family.pk, 2026)["total_cents"] == 0

    _pay(commune_a, in_commune, parent, invoiced)
    with time_machine.travel(PAID_ON, tick=False):
        text = _text(client, 2026, parent)
        january = childcare_attestation(parent.family.pk, 2027)
    assert f"{commune_a.name} Enfant" in text  # per commune
    assert re.search(rf"{young} Garderie 2 {_euros(500)}", text)
    assert f"Total payé à {commune_a.name} : {_euros(500)}" in text
    assert f"Total attesté : {_euros(500)}" in text
    # Paid in January 2027, but the days are of 2026: nothing for 2027.
    assert january["total_cents"] == 0 and january["communes"] == []
    assert "aides de la CAF" in text and "ne sont pas déduites" in text


def test_its_credit_notes_are_deducted(invoiced, commune_a, in_commune, parent):
    manager = UserFactory()
    MembershipFactory(user=manager, commune=commune_a, role=Role.MANAGER)
    _pay(commune_a, in_commune, parent, invoiced)
    with time_machine.travel(PAID_ON, tick=False), in_commune(commune_a):
        issue_credit_note(
            commune=commune_a,
            staff_user=manager,
            invoice_id=invoiced.pk,
            amount=150,
            reason="Garderie fermée plus tôt",
        )
    with time_machine.travel(PAID_ON, tick=False):
        attestation = childcare_attestation(parent.family.pk, 2026)
    assert attestation["total_cents"] == 350
    ((_commune, lines, subtotal),) = attestation["communes"]
    assert [line[2:] for line in lines] == [(2, 350)] and subtotal == 350  # 5,00 € less 1,50 €
