"""Test set-up: the public schema, the template and two communes are created once per session.

Each test then runs in a transaction that is rolled back, and the connection is put back on the
public schema afterwards, so tests stay fast and never see each other's rows or schema.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tenants.models import Commune
from tenants.selectors import forget_commune
from tenants.services import create_commune, ensure_template_schema, schema_name_for

COMMUNE_A = {"slug": "commune-a", "name": "Commune A", "insee_code": "01001", "holiday_zone": "A"}
COMMUNE_B = {"slug": "commune-b", "name": "Commune B", "insee_code": "43157", "holiday_zone": "A"}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_template_schema()
        for spec in (COMMUNE_A, COMMUNE_B):
            if not Commune.objects.filter(slug=spec["slug"]).exists():
                create_commune(**spec)
        forget_commune()


def _commune(spec: dict) -> Commune:
    commune = Commune.objects.filter(slug=spec["slug"]).first()
    if commune is None:
        # A transactional test flushed the public tables; the commune's schema is still there.
        commune = Commune(schema_name=schema_name_for(spec["slug"]), **spec)
        commune.save(verbosity=0)
        forget_commune()
    return commune


@pytest.fixture
def commune_a(db) -> Commune:
    return _commune(COMMUNE_A)


@pytest.fixture
def commune_b(db) -> Commune:
    return _commune(COMMUNE_B)


@pytest.fixture(autouse=True)
def _public_schema_after_each_test():
    yield
    connection.set_schema_to_public()
    forget_commune()


@pytest.fixture
def in_commune():
    """`with in_commune(commune): …` runs code in that commune's schema, then restores."""

    @contextmanager
    def _ctx(commune: Commune):
        with tenant_context(commune):
            yield commune

    return _ctx


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached values never carry over from one test to the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def auth_api(user):
    """An API client authenticated with a Bearer token, as the mobile app is."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.create(user=user).key}")
    client.user = user
    return client


@pytest.fixture
def send_mail_now(django_capture_on_commit_callbacks):
    """Run what would happen after commit (queued e-mail tasks) inside the test transaction."""

    @contextmanager
    def _ctx():
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return _ctx


def link_in(message, marker: str) -> str:
    """The first link in an e-mail's text that contains `marker`."""
    import re

    for url in re.findall(r"https?://\S+", message.body):
        if marker in url:
            return url
    raise AssertionError(f"no link with {marker!r} in: {message.body}")


@pytest.fixture(autouse=True)
def _clean_commune_schemas_after_transactional_tests(request):
    """Transactional tests commit; Django's flush only empties the public schema's tables."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) "
            "AND tablename <> 'django_migrations'",
            [[schema_name_for(COMMUNE_A["slug"]), schema_name_for(COMMUNE_B["slug"])]],
        )
        tables = [f'"{schema}"."{table}"' for schema, table in cursor.fetchall()]
        if tables:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
