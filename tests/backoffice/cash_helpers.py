"""Helpers of the régie tests: staff members, a family known to commune A, payments."""

from __future__ import annotations

from itertools import count

from django.test import Client

from tenant_apps.backoffice.services import record_counter_credit
from tenants.models import Membership, Role
from tests.factories import UserFactory

_references = count(1)


def staff(commune, role=Role.AGENT, **names):
    user = UserFactory(**names)
    Membership.objects.create(user=user, commune=commune, role=role)
    return user


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pay(commune, in_commune, agent, parent, service, amount_cents, method="cash", reference=None):
    """A counter payment taken by `agent` for `parent`'s family; the CounterReceipt."""
    with in_commune(commune):
        return record_counter_credit(
            commune=commune,
            staff_user=agent,
            family_id=parent.family.pk,
            service_id=service.pk,
            amount_cents=amount_cents,
            method=method,
            reference=reference or f"REF-{next(_references)}",
        )
