"""Suspension is effective at once in another process: its own connection, its own warm cache
of communes, a commune object it loaded before the suspension."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django_tenants.utils import tenant_context

from tenants.middleware import CommuneMiddleware
from tenants.models import Commune
from tenants.selectors import CommuneCache
from tenants.services import CommuneSuspended, resume_commune, suspend_commune

# Real connections: these tests share one xdist worker (pyproject's `--dist loadgroup`).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("real_connections")]


def _process():
    """One process's commune middleware (its own cache); its view answers whether the commune
    it resolved is suspended."""

    def view(request):
        return HttpResponse("suspendue" if request.tenant.suspended_at else "ouverte")

    return CommuneMiddleware(view, communes=CommuneCache())


def test_another_process_with_a_warm_cache_moves_no_money_once_suspended(commune_a):
    from shared_apps.families.services import get_or_create_family
    from shared_apps.wallet.services import record_counter_payment
    from tests.factories import UserFactory

    family = get_or_create_family(UserFactory())
    agent = UserFactory()
    warmed, suspended, done = threading.Event(), threading.Event(), threading.Event()
    outcome: dict = {}

    def other_process():
        try:
            process = _process()
            outcome["before"] = process(RequestFactory().get("/c/commune-a/")).content
            stale = Commune.objects.get(pk=commune_a.pk)  # loaded before the suspension
            warmed.set()
            suspended.wait(timeout=30)
            outcome["after"] = process(RequestFactory().get("/c/commune-a/")).content
            with tenant_context(stale):
                try:
                    record_counter_payment(
                        staff_user=agent,
                        commune=stale,
                        family_id=family.pk,
                        service_id=1,
                        service_name="Cantine",
                        amount_cents=1000,
                        method="cash",
                        reference="R1",
                    )
                    outcome["payment"] = "accepted"
                except CommuneSuspended:
                    outcome["payment"] = "refused"
        except Exception as exc:  # reported to the test below
            outcome["error"] = exc
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=other_process)
    thread.start()
    assert warmed.wait(timeout=30)
    suspend_commune(commune=commune_a, reason="Contrôle")  # committed (autocommit)
    suspended.set()
    assert done.wait(timeout=60)
    thread.join()

    assert "error" not in outcome, outcome
    assert outcome["before"] == b"ouverte"
    assert outcome["after"] == b"suspendue"
    assert outcome["payment"] == "refused"
    from shared_apps.wallet.models import LedgerTransaction

    assert not LedgerTransaction.objects.filter(commune=commune_a).exists()
    resume_commune(commune=Commune.objects.get(pk=commune_a.pk))
    assert _process()(RequestFactory().get("/c/commune-a/")).content == b"ouverte"
    assert Commune.objects.get(pk=commune_a.pk).suspended_at is None
