"""Switching the "tous services" credit per commune from the console, audited, seen at once."""

from __future__ import annotations

import pytest

from shared_apps.audit.models import AuditEntry
from tenants.selectors import CommuneCache

pytestmark = pytest.mark.django_db


def test_an_operator_switches_the_general_credit_off_and_on(commune_a, operator):
    other_process = CommuneCache()
    assert other_process.get("commune-a").accepts_general_credit  # warm

    response = operator.web.post(
        f"/operateur/communes/{commune_a.pk}/credit-general/", {"accepted": "0"}, follow=True
    )

    assert "refuse désormais le crédit « tous services »" in response.content.decode()
    assert not other_process.get("commune-a").accepts_general_credit
    entry = AuditEntry.objects.get(action="operator.general_credit")
    assert entry.actor == operator and entry.details == {"before": True, "after": False}

    operator.web.post(f"/operateur/communes/{commune_a.pk}/credit-general/", {"accepted": "1"})

    assert other_process.get("commune-a").accepts_general_credit
    assert AuditEntry.objects.filter(action="operator.general_credit").count() == 2


def test_a_bad_choice_changes_nothing(commune_a, operator):
    operator.web.post(f"/operateur/communes/{commune_a.pk}/credit-general/", {"accepted": "x"})
    commune_a.refresh_from_db()
    assert commune_a.accepts_general_credit
    assert not AuditEntry.objects.filter(action="operator.general_credit").exists()
