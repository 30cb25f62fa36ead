"""Every process stops serving a commune as soon as it is deactivated or renamed.

Each process keeps its own cache of communes; two `CommuneCache` objects stand for two
processes (gunicorn workers), sharing only the platform cache and the database, as real ones do.
"""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.http import HttpResponse, HttpResponseNotFound
from django.test import RequestFactory

from tenants.middleware import CommuneMiddleware
from tenants.models import Commune
from tenants.selectors import ROUTING_VERSION_KEY, CommuneCache

pytestmark = pytest.mark.django_db


def _process() -> CommuneMiddleware:
    """The commune middleware of one process: its own cache, a view naming the commune."""

    def view(request):
        if getattr(request, "unknown_commune", None):
            return HttpResponseNotFound("Aucune commune")
        return HttpResponse(request.tenant.name)

    return CommuneMiddleware(view, communes=CommuneCache())


def _get(process: CommuneMiddleware, path: str) -> HttpResponse:
    return process(RequestFactory().get(path))


def test_a_commune_deactivated_in_one_process_is_404_at_once_in_the_others(commune_a):
    saving, other = _process(), _process()
    assert _get(saving, "/c/commune-a/").status_code == 200
    assert _get(other, "/c/commune-a/").content == b"Commune A"

    # Saved by the first process (e.g. an operator in /admin/): nothing touches the other's memory.
    commune_a.is_active = False
    commune_a.save()

    assert _get(other, "/c/commune-a/").status_code == 404
    assert _get(saving, "/c/commune-a/").status_code == 404


def test_a_renamed_commune_is_404_under_its_old_slug_at_once_everywhere(commune_a):
    saving, other = _process(), _process()
    assert _get(other, "/c/commune-a/").status_code == 200

    commune_a.slug = "commune-a-nouvelle"
    commune_a.save()

    assert _get(other, "/c/commune-a/").status_code == 404
    assert _get(saving, "/c/commune-a/").status_code == 404
    assert _get(other, "/c/commune-a-nouvelle/").content == b"Commune A"


def test_a_reactivated_commune_is_served_again_everywhere(commune_a):
    other = _process()
    commune_a.is_active = False
    commune_a.save()
    assert _get(other, "/c/commune-a/").status_code == 404

    commune_a.is_active = True
    commune_a.save()

    assert _get(other, "/c/commune-a/").status_code == 200


def test_a_lost_routing_version_makes_every_process_look_again(commune_a):
    other = _process()
    assert _get(other, "/c/commune-a/").status_code == 200
    # Changed without a save signal (a bulk update, SQL), and the shared version lost.
    Commune.objects.filter(pk=commune_a.pk).update(is_active=False)
    caches["platform"].delete(ROUTING_VERSION_KEY)  # e.g. evicted by Redis

    assert _get(other, "/c/commune-a/").status_code == 404


def test_the_site_still_answers_when_the_shared_cache_is_down(commune_a, monkeypatch):
    other = _process()

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(caches["platform"], "get", down)

    assert _get(other, "/c/commune-a/").content == b"Commune A"
    Commune.objects.filter(pk=commune_a.pk).update(is_active=False)
    assert _get(other, "/c/commune-a/").status_code == 404  # nothing was kept meanwhile
