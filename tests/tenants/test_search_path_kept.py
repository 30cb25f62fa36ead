"""Issue 15: requests for one commune that follow each other on a connection send its
`SET search_path` once, and never let one commune's request run on another's schema."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenant_apps.catalog.models import Service, ServiceKind

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _keep_search_path(settings):
    settings.TENANT_KEEP_SEARCH_PATH = True


def _sets(client, path: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    assert connection.schema_name == "public"  # as after every request
    sets = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SET search_path")]
    return len(sets), response.content.decode()


def test_the_same_commune_again_sends_no_set_and_another_commune_its_own(
    client, commune_a, commune_b, in_commune
):
    with in_commune(commune_a):
        Service.objects.create(kind=ServiceKind.CANTINE, name="Seulement A")
    first, page = _sets(client, "/c/commune-a/")  # the commune's row read first, on public
    assert first >= 1
    assert "Seulement A" in page
    again, page = _sets(client, "/c/commune-a/")
    assert (again, "Seulement A" in page) == (0, True)
    other, page = _sets(client, "/c/commune-b/")
    assert other >= 1  # its row read first too (not in the cache yet)
    assert "Seulement A" not in page
    back, page = _sets(client, "/c/commune-a/")
    assert (back, "Seulement A" in page) == (1, True)


def test_a_query_between_two_requests_makes_the_next_one_set_its_path_again(
    client, commune_a, in_commune
):
    with in_commune(commune_a):
        Service.objects.create(kind=ServiceKind.CANTINE, name="Seulement A")
    _sets(client, "/c/commune-a/")
    # Code outside any request (on public) runs a query: the server's path is public now.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    again, page = _sets(client, "/c/commune-a/")
    assert (again, "Seulement A" in page) == (1, True)


def test_a_public_request_between_two_commune_requests_switches_back_and_forth(
    client, commune_a, in_commune
):
    with in_commune(commune_a):
        Service.objects.create(kind=ServiceKind.CANTINE, name="Seulement A")
    _sets(client, "/c/commune-a/")
    public, _ = _sets(client, "/")
    again, page = _sets(client, "/c/commune-a/")
    assert (public, again, "Seulement A" in page) == (1, 1, True)


def test_off_it_sends_the_set_on_every_commune_request(client, commune_a, settings):
    settings.TENANT_KEEP_SEARCH_PATH = False
    _sets(client, "/c/commune-a/")
    assert _sets(client, "/c/commune-a/")[0] == 1
