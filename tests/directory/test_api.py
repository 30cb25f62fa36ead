"""GET /api/v1/communes: the public directory of communes and their services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shared_apps.directory.services import publish_service
from tenants.models import Commune

pytestmark = pytest.mark.django_db

URL = "/api/v1/communes"


def _by_slug(body: list[dict]) -> dict[str, dict]:
    return {commune["slug"]: commune for commune in body}


def test_the_directory_lists_both_communes_with_the_services_they_published(
    api, commune_a, commune_b, publish
):
    cantine = publish(commune_a, "Cantine")
    garderie = publish(commune_b, "Garderie", kind="garderie")
    publish(commune_b, "Ancien centre", kind="centre_loisirs", is_active=False)

    response = api.get(URL)

    assert response.status_code == 200
    communes = _by_slug(response.json())
    assert communes["commune-a"]["name"] == "Commune A"
    assert communes["commune-a"]["services"] == [
        {
            "id": cantine.pk,
            "kind": "cantine",
            "name": "Cantine",
            "label": "Cantine de Commune A",
            "description": "",
        }
    ]
    assert [(s["id"], s["kind"], s["name"]) for s in communes["commune-b"]["services"]] == [
        (garderie.pk, "garderie", "Garderie")
    ]


def test_the_directory_is_open_without_logging_in_and_is_a_plain_list(api, commune_a):
    body = api.get(URL).json()
    assert isinstance(body, list)
    assert {"slug", "name", "services"} <= set(body[0])


def test_inactive_communes_are_not_listed(api, commune_a, commune_b):
    commune_b.is_active = False
    commune_b.save()
    assert "commune-b" not in _by_slug(api.get(URL).json())


def test_the_directory_needs_the_same_queries_for_two_or_four_communes(api, commune_a, commune_b):
    for commune in (commune_a, commune_b):
        publish_service(
            commune=commune,
            service_id=1,
            kind="cantine",
            name="Cantine",
            description="",
            is_active=True,
        )
    with CaptureQueriesContext(connection) as two:
        assert len(api.get(URL).json()) == 2

    for slug in ("commune-c", "commune-d"):
        # Only the public rows matter here: no schema is needed for the directory.
        commune = Commune(schema_name=f"c_{slug}".replace("-", "_"), slug=slug, name=slug)
        commune.auto_create_schema = False
        commune.save()
        for service_id in (1, 2, 3):
            publish_service(
                commune=commune,
                service_id=service_id,
                kind="garderie",
                name=f"S{service_id}",
                description="",
                is_active=True,
            )

    with CaptureQueriesContext(connection) as four:
        body = api.get(URL).json()
    assert len(body) == 4
    assert len(two.captured_queries) == len(four.captured_queries)
    assert len(_selects(four)) == 2  # the communes, then all their listings


def _selects(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if q["sql"].startswith("SELECT")]
