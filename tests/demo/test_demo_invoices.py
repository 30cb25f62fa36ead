"""The demo family is billed by direct debit: a paid and a rejected invoice for past months,
built by the real monthly run and settled by the webhook's code, once however often it runs."""

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from demo.communes import DEMO_PARENT_EMAIL
from shared_apps.accounts.models import User
from shared_apps.families.selectors import family_id_of
from shared_apps.payments.models import Payment
from shared_apps.wallet.models import LedgerTransaction
from tenant_apps.billing.models import Invoice, Mandate
from tenant_apps.billing.services.collection import invoice_states
from tenants.models import Commune

pytestmark = pytest.mark.django_db


def test_the_demo_family_has_a_paid_and_a_rejected_invoice_once(client):
    call_command("demo")
    call_command("demo")

    family_id = family_id_of(User.objects.get(email=DEMO_PARENT_EMAIL))
    with tenant_context(Commune.objects.get(slug="saint-marcel-en-dombes")):
        assert Mandate.objects.filter(family_id=family_id, status="active").count() == 1
        invoices = list(Invoice.objects.filter(family_id=family_id).order_by("month"))
        assert len(invoices) == 2
        assert all(i.lines.count() >= 1 and i.total_cents > 0 for i in invoices)
        states = invoice_states(invoices)
        assert [states[i.pk].code for i in invoices] == ["paid", "failed"]
        older, last = invoices
    assert Payment.objects.filter(purpose="invoice", family_id=family_id).count() == 2
    settled = LedgerTransaction.objects.filter(source_key__startswith="ddpaid:")
    assert settled.count() == 1
    call_command("verify_ledger")

    client.post("/compte/connexion/", {"email": DEMO_PARENT_EMAIL, "password": "marelle-demo-2026"})
    page = client.get("/c/saint-marcel-en-dombes/factures/").content.decode()
    assert older.number in page and last.number in page
    assert "Payée" in page and "Prélèvement rejeté" in page
