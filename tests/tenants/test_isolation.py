"""Tenant isolation at the base: rows, routing, connection state, cache, tasks.

Every route × every boundary (anonymous, another family, another commune, staff of A on B, a
parent on staff routes, staff on operator routes) is tests/security/test_isolation.py."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection

from config.celery import TenantTask, app
from tenant_apps.catalog.models import Service, ServiceKind
from tests.security.routes import _all_patterns, _example_path

pytestmark = pytest.mark.django_db


def test_row_written_in_a_is_invisible_from_b_and_from_public(commune_a, commune_b, in_commune):
    with in_commune(commune_a):
        Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine de A")
        assert Service.objects.filter(name="Cantine de A").exists()
    with in_commune(commune_b):
        assert not Service.objects.filter(name="Cantine de A").exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_name = 'catalog_service'"
        )
        assert cursor.fetchone()[0] == 0, "tenant tables must not exist in the public schema"


def test_commune_page_names_the_commune_and_shows_only_its_services(
    client, commune_a, commune_b, in_commune
):
    with in_commune(commune_a):
        Service.objects.create(kind=ServiceKind.CANTINE, name="Repas de A")
    with in_commune(commune_b):
        Service.objects.create(kind=ServiceKind.GARDERIE, name="Garderie de B")

    page = client.get("/c/commune-b/").content.decode()

    assert "Commune B" in page
    assert "Garderie de B" in page
    assert "Repas de A" not in page


def test_home_page_lists_the_communes_in_french(client, commune_a, commune_b):
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in page
    assert "Commune A" in page and "Commune B" in page
    assert 'href="/c/commune-a/"' in page


def test_unknown_commune_slug_is_a_french_404_page(client):
    response = client.get("/c/nulle-part/")
    assert response.status_code == 404
    assert "Aucune commune « nulle-part »" in response.content.decode()


def test_unknown_commune_slug_in_the_api_is_a_json_404(client):
    response = client.get("/c/nulle-part/api/v1/services")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_inactive_commune_is_not_served(client, commune_a):
    commune_a.is_active = False
    commune_a.save()
    assert client.get("/c/commune-a/").status_code == 404


def test_unknown_page_inside_a_commune_is_404(client, commune_a):
    assert client.get("/c/commune-a/pas-une-page/").status_code == 404


def test_request_leaves_the_connection_on_public(client, commune_a):
    client.get("/c/commune-a/")
    assert connection.schema_name == "public"


def test_a_then_b_each_see_their_own_schema(client, commune_a, commune_b, in_commune):
    with in_commune(commune_a):
        Service.objects.create(kind=ServiceKind.CANTINE, name="Seulement A")
    assert "Seulement A" in client.get("/c/commune-a/").content.decode()
    assert "Seulement A" not in client.get("/c/commune-b/").content.decode()
    assert "Seulement A" in client.get("/c/commune-a/").content.decode()


def test_nested_tenant_contexts_restore_the_previous_schema(commune_a, commune_b, in_commune):
    with in_commune(commune_a):
        with in_commune(commune_b):
            assert connection.schema_name == commune_b.schema_name
        assert connection.schema_name == commune_a.schema_name
    assert connection.schema_name == "public"


def test_exception_inside_a_tenant_context_does_not_leak_the_schema(commune_a, in_commune):
    with pytest.raises(RuntimeError), in_commune(commune_a):
        raise RuntimeError("boom")
    assert connection.schema_name == "public"


def test_same_cache_key_holds_different_values_per_commune(commune_a, commune_b, in_commune):
    with in_commune(commune_a):
        cache.set("menu-du-jour", "lasagnes")
    with in_commune(commune_b):
        cache.set("menu-du-jour", "gratin")
    with in_commune(commune_a):
        assert cache.get("menu-du-jour") == "lasagnes"
    with in_commune(commune_b):
        assert cache.get("menu-du-jour") == "gratin"


@app.task(base=TenantTask, bind=True)
def _count_services_in(self, schema_name: str, fail: bool = False) -> tuple[str, int]:
    if fail:
        raise ValueError("the task failed")
    return connection.schema_name, Service.objects.count()


def test_task_runs_in_the_schema_it_names_even_right_after_another(
    commune_a, commune_b, in_commune
):
    with in_commune(commune_a):
        Service.objects.create(kind=ServiceKind.CANTINE, name="A1")
        Service.objects.create(kind=ServiceKind.GARDERIE, name="A2")

    # Queued from the public schema, and alternating communes.
    assert _count_services_in.delay(commune_a.schema_name).get() == (commune_a.schema_name, 2)
    assert _count_services_in.delay(commune_b.schema_name).get() == (commune_b.schema_name, 0)
    assert connection.schema_name == "public"


def test_failing_task_leaves_no_schema_set(commune_a):
    with pytest.raises(ValueError):
        _count_services_in.delay(commune_a.schema_name, fail=True).get()
    assert connection.schema_name == "public"


def test_every_commune_url_is_404_under_an_unknown_commune(client, db):
    commune_patterns = [p for p in _all_patterns() if p.startswith("c/<slug:commune_slug>/")]
    assert commune_patterns, "the resolver should list commune URLs"
    for pattern in commune_patterns:
        path = _example_path(pattern, "commune-inconnue")
        for method in (client.get, client.post):
            assert method(path).status_code == 404, f"{method.__name__.upper()} {path}"


def test_a_task_run_eagerly_inside_a_commune_hands_its_schema_back(
    commune_a, commune_b, in_commune
):
    """In the demo tasks run in-process right after commit, often in the middle of a request."""
    with in_commune(commune_a):
        assert _count_services_in.delay(commune_b.schema_name).get()[0] == commune_b.schema_name
        assert connection.schema_name == commune_a.schema_name
        with pytest.raises(ValueError):
            _count_services_in.delay(commune_b.schema_name, fail=True).get()
        assert connection.schema_name == commune_a.schema_name


@pytest.mark.parametrize(
    "path", ["/c/%00/", "/c/baneins%00/", "/services/?commune=%00", "/c/UPPER/", "/c/a..b/"]
)
def test_addresses_that_cannot_be_real_are_refused_without_a_500(client, db, path):
    assert client.get(path).status_code in (400, 404)
