"""Fixtures for the bad-input walks: commune A's canteen, an enrolled family and a staff member."""

from __future__ import annotations

import json
import logging
import re
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tenants.models import Membership, Role
from tests.bookings.conftest import canteen, make_family  # noqa: F401  (fixture)
from tests.factories import UserFactory


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """Each probe starts from the same state: whatever a request wrote is undone."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass
    cache.clear()  # throttles and lockouts would otherwise hide what is behind them


@pytest.fixture
def parent(commune_a, in_commune, canteen):
    return make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)


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


def with_ids(path: str, ids: dict[str, int]) -> str:
    """'/c/{commune_slug}/x/{product_id}' or '…/<int:product_id>' → a real address in A."""
    path = path.replace("{commune_slug}", "commune-a").replace("<slug:commune_slug>", "commune-a")
    return re.sub(
        r"\{(\w+)\}|<int:(\w+)>",
        lambda match: str(ids.get(match.group(1) or match.group(2), 1)),
        path,
    )


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


def api_client_for(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client


def error_format_problem(response) -> str | None:
    """What is wrong with a 4xx body, by API.md's error format; None when it is right."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"no 'error' object: {str(body)[:200]}"
    if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
        return f"code/message missing: {error}"
    if not isinstance(error.get("fields"), dict):
        return f"fields is not an object: {error}"
    return None
