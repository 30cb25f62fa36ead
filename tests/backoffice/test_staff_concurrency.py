"""Real parallel changes to a commune's team: it never ends up without a manager, and an
invitation link accepted twice at once makes one membership."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.backoffice.services_staff import (
    LastManager,
    accept_staff_invitation,
    change_staff_role,
    invite_staff,
    remove_staff_member,
)
from tenants.models import Membership, Role
from tests.factories import UserFactory
from tests.parallel import run_in_parallel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("real_connections")]


def _manager(commune):
    user = UserFactory()
    return user, Membership.objects.create(user=user, commune=commune, role=Role.MANAGER)


def test_two_managers_stepping_down_at_once_leave_one_manager(commune_a):
    (first, first_m), (second, second_m) = _manager(commune_a), _manager(commune_a)

    results = run_in_parallel(
        [
            lambda: change_staff_role(
                commune=commune_a, changed_by=first, membership_id=first_m.pk, role=Role.AGENT
            ),
            lambda: remove_staff_member(
                commune=commune_a, removed_by=second, membership_id=second_m.pk
            ),
        ],
        context=lambda: tenant_context(commune_a),
    )

    assert sum(isinstance(r, LastManager) for r in results) == 1, results
    assert Membership.objects.filter(commune=commune_a, role=Role.MANAGER).count() == 1


def test_one_link_accepted_twice_at_once_makes_one_membership(commune_a):
    manager, _ = _manager(commune_a)
    invitee = UserFactory(email="pressee@exemple.fr")
    _, token = invite_staff(
        commune=commune_a, invited_by=manager, email=invitee.email, role=Role.AGENT
    )

    results = run_in_parallel(
        [lambda: accept_staff_invitation(commune=commune_a, user=invitee, token=token)] * 2,
        context=lambda: tenant_context(commune_a),
    )

    assert sum(isinstance(r, Membership) for r in results) == 1, results
    assert Membership.objects.filter(user=invitee).count() == 1
