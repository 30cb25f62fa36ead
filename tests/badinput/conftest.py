"""Fixtures for the bad-input walks: a staff member of commune A and real ids to probe with."""

from __future__ import annotations

import logging

import pytest

from tenants.models import Membership, Role
from tests.factories import UserFactory


@pytest.fixture
def staff(commune_a):
    member = UserFactory()
    Membership.objects.create(user=member, commune=commune_a, role=Role.MANAGER)
    return member


@pytest.fixture
def known_ids(parent, canteen, commune_a, in_commune):
    """Real ids for the path parameters, so that probes reach the forms and serializers."""
    from tenant_apps.enrollments.models import AccessRequest

    with in_commune(commune_a):
        request_id = AccessRequest.objects.filter(family_id=parent.family.pk).first().pk
    return {
        "product_id": canteen.pk,
        "service_id": canteen.service.pk,
        "child_id": parent.kids[0].pk,
        "request_id": request_id,
    }


@pytest.fixture
def quiet_request_log():
    """Thousands of expected 4xx would each be logged as a warning: only errors are kept."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture(params=["parent", "staff"])
def someone(request, parent, staff):
    """The walks run as a parent of commune A and as a manager of commune A."""
    return parent if request.param == "parent" else staff
