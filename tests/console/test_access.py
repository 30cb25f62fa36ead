"""The console is for platform operators only: every page and action refuses anyone else."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client

from shared_apps.audit.models import AuditEntry
from tenants.models import Commune
from tests.console.conftest import page_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGES = ["/operateur/", "/operateur/communes/nouvelle/", "/operateur/flux/"]


def _actions(commune_id: int) -> list[tuple[str, dict]]:
    base = f"/operateur/communes/{commune_id}"
    return [
        (f"{base}/suspendre/", {"reason": "Impayés"}),
        (f"{base}/reprendre/", {}),
        (f"{base}/credit-general/", {"accepted": "0"}),
        (f"{base}/actualiser/", {}),
    ]


def _everything(commune_id: int) -> list[tuple[str, str, dict]]:
    return (
        [("get", path, {}) for path in [*PAGES, f"/operateur/communes/{commune_id}/"]]
        + [("post", path, data) for path, data in _actions(commune_id)]
        + [
            (
                "post",
                "/operateur/communes/nouvelle/",
                {
                    "name": "Pirate",
                    "slug": "pirate",
                    "insee_code": "01449",
                    "manager_email": "x@y.fr",
                },
            )
        ]
    )


def _nothing_changed(commune: Commune) -> None:
    commune.refresh_from_db()
    assert commune.suspended_at is None and commune.accepts_general_credit
    assert not Commune.objects.filter(slug="pirate").exists()
    assert not AuditEntry.objects.filter(action__startswith="operator.").exists()


def test_anonymous_visitors_are_sent_to_the_login_page(commune_a):
    client = Client()
    for method, path, data in _everything(commune_a.pk):
        response = getattr(client, method)(path, data)
        assert response.status_code == 302, path
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL)), path
    _nothing_changed(commune_a)


def test_a_communes_staff_and_a_parent_are_refused(commune_a, manager_a, parent):
    for user in (manager_a, parent):
        client = page_client(user)
        for method, path, data in _everything(commune_a.pk):
            response = getattr(client, method)(path, data)
            assert response.status_code == 403, (user, path)
    _nothing_changed(commune_a)


def test_a_django_staff_member_who_is_not_an_operator_is_refused(commune_a):
    client = page_client(UserFactory(is_staff=True))
    assert client.get("/operateur/").status_code == 403


def test_no_one_but_an_operator_learns_whether_a_commune_exists(commune_a, manager_a, operator):
    # Refused before the lookup: the same answer for a commune that exists and one that does not.
    assert manager_a.web.get(f"/operateur/communes/{commune_a.pk}/").status_code == 403
    assert manager_a.web.get("/operateur/communes/999999/").status_code == 403
    assert operator.web.get("/operateur/communes/999999/").status_code == 404
    assert (
        operator.web.post("/operateur/communes/999999/suspendre/", {"reason": "x"}).status_code
        == 404
    )


def test_an_operator_sees_every_page(commune_a, operator):
    for path in [*PAGES, f"/operateur/communes/{commune_a.pk}/"]:
        response = operator.web.get(path)
        assert response.status_code == 200, path
        assert "<h1>" in response.content.decode()


def test_actions_only_take_post(commune_a, operator):
    for path, _ in _actions(commune_a.pk):
        assert operator.web.get(path).status_code == 405
