"""Credit notes through the staff API (managers): issue one with an amount and a reason on an
invoice, list them; the family is e-mailed the credit note's PDF; bad input is a stable JSON
error and changes nothing; other communes, agents, parents and anonymous are refused."""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail
from pypdf import PdfReader

from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.services import receivable_balances
from tenant_apps.billing.models import CreditNote, InvoiceCounter
from tenants.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures.billing import start_collection
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db


def _url(invoice, slug="commune-a") -> str:
    return f"/c/{slug}/api/v1/staff/invoices/{invoice.pk}/credit-notes"


@pytest.fixture
def manager_api(commune_a):
    user = UserFactory()
    MembershipFactory(user=user, commune=commune_a, role=Role.MANAGER)
    return client_for(user)


def _snapshot(commune, in_commune):
    with in_commune(commune):
        counter = InvoiceCounter.objects.filter(name="credit_note").first()
        return (
            CreditNote.objects.count(),
            counter.last_number if counter else 0,
            LedgerTransaction.objects.count(),
        )


def test_a_manager_issues_and_lists_them_and_the_family_gets_the_pdf(
    invoiced,
    manager_api,
    commune_a,
    in_commune,
    parent,
    canteen,
    send_mail_now,
):
    mine, _ = invoiced
    owed = receivable_balances(parent.family.pk, commune_a)[canteen.service.pk]
    with send_mail_now():
        response = manager_api.post(
            _url(mine), {"amount": "2,40", "reason": "Repas non servi (grève)"}, format="json"
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert re.fullmatch(r"AV-\d{4}-000001", body["number"])
    assert body["amount_cents"] == 240 and body["destination"] == "receivable"
    assert body["invoice_number"] == mine.number
    assert receivable_balances(parent.family.pk, commune_a)[canteen.service.pk] == owed - 240

    (message,) = mail.outbox
    assert message.to == [parent.email] and body["number"] in message.subject
    ((name, content, mimetype),) = message.attachments
    assert name == f"avoir-{body['number']}.pdf" and mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    text = re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))
    assert body["number"] in text and mine.number in text and "2,40 €" in text

    listed = manager_api.get(_url(mine))
    assert listed.status_code == 200
    assert [n["number"] for n in listed.json()] == [body["number"]]


BAD_INPUT = [
    ({"amount": "0", "reason": "x"}, "amount"),
    ({"amount": "-3", "reason": "x"}, "amount"),
    ({"amount": -300, "reason": "x"}, "amount"),
    ({"amount": "abc", "reason": "x"}, "amount"),
    ({"amount": "\u0663", "reason": "x"}, "amount"),  # an Arabic-Indic 3: ASCII digits only
    ({"amount": ["1"], "reason": "x"}, "amount"),
    ({"amount": "100000", "reason": "x"}, "amount"),  # more than what is left
    ({"amount": "1", "reason": ""}, "reason"),
    ({"amount": "1"}, "reason"),
    ({"amount": "1", "reason": "x" * 501}, "reason"),
]


def test_bad_input_is_a_stable_error_and_changes_nothing(
    invoiced,
    manager_api,
    commune_a,
    in_commune,
):
    # One invoice for every case (the set-up is what costs): each case is checked on its own.
    mine, _ = invoiced
    before = _snapshot(commune_a, in_commune)
    for data, field in BAD_INPUT:
        response = manager_api.post(_url(mine), data, format="json")
        assert response.status_code == 400, (data, response.json())
        error = response.json()["error"]
        assert error["code"] == "invalid" and field in error["fields"], (data, error)
        assert _snapshot(commune_a, in_commune) == before, data
    assert not mail.outbox


def test_above_what_is_left_after_earlier_credit_notes_is_refused(
    invoiced,
    manager_api,
    commune_a,
    in_commune,
):
    mine, _ = invoiced
    assert (
        manager_api.post(
            _url(mine), {"amount": mine.total_cents - 100, "reason": "Geste"}, format="json"
        ).status_code
        == 201
    )
    before = _snapshot(commune_a, in_commune)
    response = manager_api.post(_url(mine), {"amount": 101, "reason": "Geste"}, format="json")
    assert response.status_code == 400
    assert "Au plus 1,00" in response.json()["error"]["fields"]["amount"][0]
    assert _snapshot(commune_a, in_commune) == before


def test_a_payment_in_progress_refuses_it(invoiced, manager_api, commune_a, in_commune):
    mine, _ = invoiced
    start_collection(commune_a, mine)  # the bank has not answered yet
    before = _snapshot(commune_a, in_commune)
    response = manager_api.post(_url(mine), {"amount": "1", "reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invoice_being_collected"
    assert _snapshot(commune_a, in_commune) == before


def test_a_suspended_commune_issues_no_credit_note(invoiced, manager_api, commune_a, in_commune):
    """A credit note moves money (a paid invoice's credit goes to the wallet): refused like
    every other money movement of a suspended commune."""
    from tenants.services import suspend_commune

    mine, _ = invoiced
    suspend_commune(commune=commune_a, reason="Contrôle de la régie")
    before = _snapshot(commune_a, in_commune)
    response = manager_api.post(_url(mine), {"amount": "1", "reason": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "commune_suspended"
    assert _snapshot(commune_a, in_commune) == before
    assert not mail.outbox


def test_other_communes_agents_parents_and_anonymous_are_refused(
    invoiced,
    manager_api,
    api,
    commune_a,
    commune_b,
    in_commune,
    parent,
):
    mine, _ = invoiced
    before = _snapshot(commune_a, in_commune)
    manager_b = UserFactory()
    MembershipFactory(user=manager_b, commune=commune_b, role=Role.MANAGER)
    b = client_for(manager_b)
    data = {"amount": "1", "reason": "x"}
    assert b.post(_url(mine), data, format="json").status_code == 403
    # In its own commune, commune A's invoice does not exist.
    missing = b.post(_url(mine, "commune-b"), data, format="json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert b.get(_url(mine, "commune-b")).status_code == 404
    agent = UserFactory()
    MembershipFactory(user=agent, commune=commune_a, role=Role.AGENT)
    assert client_for(agent).post(_url(mine), data, format="json").status_code == 403
    assert client_for(agent).get(_url(mine)).status_code == 403
    assert parent.api.post(_url(mine), data, format="json").status_code == 403
    assert api.post(_url(mine), data, format="json").status_code == 401
    assert api.get(_url(mine)).status_code == 401
    assert manager_api.post(_url(mine), [1], format="json").status_code == 400
    assert _snapshot(commune_a, in_commune) == before
