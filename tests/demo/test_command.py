"""`manage.py demo` builds the guide's world through the real use cases, and is idempotent."""

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from demo.communes import DEMO_PARENT_EMAIL
from shared_apps.accounts.models import User
from shared_apps.families.selectors import children_of, family_id_of
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.enrollments.models import AccessRequest
from tenants.models import Commune

pytestmark = pytest.mark.django_db


def test_demo_twice_gives_the_guides_world_once(client):
    call_command("demo")
    transactions = LedgerTransaction.objects.count()
    call_command("demo")

    assert LedgerTransaction.objects.count() == transactions
    assert set(Commune.objects.values_list("slug", flat=True)) >= {
        "saint-marcel-en-dombes",
        "baneins",
        "le-puy-en-velay",
    }
    parent = User.objects.get(email=DEMO_PARENT_EMAIL)
    assert [c.first_name for c in children_of(parent)] == ["Léa", "Hugo"]
    pockets = {p.label: p.balance_cents for p in pockets_of(family_id_of(parent))}
    assert pockets == {
        "Tous les services": 500,
        "Garderie de Baneins": 2000,
        "Cantine de Saint-Marcel-en-Dombes": 1500,
    }
    with tenant_context(Commune.objects.get(slug="le-puy-en-velay")):
        assert AccessRequest.objects.filter(status="submitted").count() == 1
    with tenant_context(Commune.objects.get(slug="saint-marcel-en-dombes")):
        assert AccessRequest.objects.filter(status="accepted").count() == 1
    call_command("verify_ledger")
    response = client.post(
        "/compte/connexion/", {"email": DEMO_PARENT_EMAIL, "password": "marelle-demo-2026"}
    )
    assert response.status_code == 302
