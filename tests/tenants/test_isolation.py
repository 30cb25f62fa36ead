"""Tenant isolation at the base: rows, routing, connection state, cache, tasks."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from config.celery import TenantTask, app
from tenant_apps.catalog.models import Service, ServiceKind

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


def _all_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _all_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _example_path(pattern: str, slug: str) -> str:
    """Turn 'c/<slug:commune_slug>/x/<int:pk>' into '/c/<slug>/x/1' (and the admin's regular
    expressions, '^(?P<app_label>tenants|auth)/$', into their first choice)."""
    import re

    path = pattern.replace("<slug:commune_slug>", slug)
    path = re.sub(r"<int:[^>]+>", "1", path)
    path = re.sub(r"<uuid:[^>]+>", "00000000-0000-0000-0000-000000000000", path)
    path = re.sub(r"<[^>]+>", "x", path)
    path = re.sub(r"\(\?P(?:<\w+>|x)([^)]*)\)", lambda m: m.group(1).split("|")[0], path)
    path = path.replace(".*", "x").replace("^", "").replace("$", "")
    return "/" + path


def test_every_commune_url_is_404_under_an_unknown_commune(client, db):
    commune_patterns = [p for p in _all_patterns() if p.startswith("c/<slug:commune_slug>/")]
    assert commune_patterns, "the resolver should list commune URLs"
    for pattern in commune_patterns:
        path = _example_path(pattern, "commune-inconnue")
        for method in (client.get, client.post):
            assert method(path).status_code == 404, f"{method.__name__.upper()} {path}"


# Every address that answers someone without an account, as the resolver spells it. Any other
# address must ask who you are (401, 403, or a redirect to a login page): a new one is refused
# to anonymous visitors, or is added here on purpose.
OPEN_TO_ANONYMOUS = {
    "",  # the platform's home page: the communes, by name
    "healthz",
    "readyz",  # readiness: which checks pass, nothing about anyone
    "metrics",  # answers the internal network only (tests/observability)
    "services/",  # the directory of published services
    "c/<slug:commune_slug>/",  # a commune's home page: its published services
    "api/schema/",
    "api/docs/",
    "api/v1/communes",
    "api/v1/payments/stripe/webhook",  # Stripe: authenticated by its signature, not by a login
    "api/v1/auth/register",
    "api/v1/auth/verify-email",
    "api/v1/auth/token",
    "api/v1/auth/password-reset",
    "api/v1/auth/password-reset/confirm",
    "compte/acces/",
    "compte/connexion/",
    "compte/inscription/",
    "compte/deconnexion/",
    "compte/verifier/<str:token>/",
    "compte/mot-de-passe-oublie/",
    "compte/mot-de-passe/nouveau/<str:token>/",
    "admin/login/",
    "admin/logout/",
    "calendrier/<str:token>.ics",  # a family's calendar feed: the secret in it is the credential
}
LOGIN_PAGES = ("/compte/acces/?next=", "/admin/login/?next=")
METHODS = ("OPTIONS", "GET", "POST", "PUT", "PATCH", "DELETE")
# 5xx already known, each to be fixed in the application (then removed from here: the test
# fails while an entry no longer answers 5xx, so the list cannot go stale).
KNOWN_5XX: set[tuple[str, str]] = set()  # none; an entry must be fixed, then removed


def _refuses_anonymous(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 302 and response["Location"].startswith(LOGIN_PAGES)


@pytest.fixture
def private_data(commune_a, parent):
    """Someone's family and a staff member of A, named so that any leak is easy to find."""
    from shared_apps.accounts.models import User
    from shared_apps.families.models import Child
    from tenants.models import Membership, Role
    from tests.factories import UserFactory

    User.objects.filter(pk=parent.pk).update(
        first_name="Philomène", last_name="Quincampoix", email="philomene@quincampoix.example"
    )
    Child.objects.filter(pk=parent.kids[0].pk).update(first_name="Barnabé")
    staff = UserFactory(email="agent.secret@commune-a.example")
    Membership.objects.create(user=staff, commune=commune_a, role=Role.MANAGER)
    return (
        "Philomène",
        "Quincampoix",
        "philomene@quincampoix.example",
        "Barnabé",
        "agent.secret@commune-a.example",
    )


def test_public_urls_answer_anonymously_and_every_other_url_refuses(private_data):
    """Enumerated from the resolver, each address tried with every method, with no account."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    patterns = sorted(set(_all_patterns()))
    assert set(patterns) >= OPEN_TO_ANONYMOUS, OPEN_TO_ANONYMOUS - set(patterns)
    problems, known_5xx_seen = [], set()
    for pattern in patterns:
        path = _example_path(pattern, "commune-a")
        answers = {}
        for method in METHODS:
            response = client.generic(method, path)
            answers[method] = response
            where = f"{method} {path} → {response.status_code}"
            if response.status_code >= 500:
                if (method, pattern) in KNOWN_5XX:
                    known_5xx_seen.add((method, pattern))
                else:
                    problems.append(f"{where}: server error")
            body = b"" if response.streaming else response.content
            leaked = [marker for marker in private_data if marker.encode() in body]
            if leaked:
                problems.append(f"{where}: shows {leaked}")
        refused = [m for m, r in answers.items() if _refuses_anonymous(r)]
        answered = [m for m, r in answers.items() if m not in refused and r.status_code != 405]
        if pattern in OPEN_TO_ANONYMOUS and not answered:
            problems.append(f"{path}: open to anyone, yet refused ({refused})")
        if pattern not in OPEN_TO_ANONYMOUS and (answered or not refused):
            statuses = {m: answers[m].status_code for m in answered}
            problems.append(f"{path}: answers anonymous visitors {statuses}")
    assert not problems, "\n".join(problems)
    assert known_5xx_seen == KNOWN_5XX, (
        f"fixed, remove from KNOWN_5XX: {KNOWN_5XX - known_5xx_seen}"
    )


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


def test_every_staff_page_and_endpoint_of_a_refuses_staff_of_b(commune_a, commune_b):
    """Enumerated from the resolver: a new staff URL is covered without anyone adding it here.

    Each address is tried with every method its view takes, as a manager of A finds them (what
    A's manager is not answered 405 for), and B's manager is refused each of them.
    """
    from django.test import Client

    from tenants.models import Membership, Role
    from tests.factories import UserFactory

    def manager_of(commune) -> Client:
        member = UserFactory()
        Membership.objects.create(user=member, commune=commune, role=Role.MANAGER)
        client = Client()
        client.force_login(member)
        return client

    manager_a, manager_b = manager_of(commune_a), manager_of(commune_b)
    staff_patterns = [
        p
        for p in _all_patterns()
        if p.startswith("c/<slug:commune_slug>/") and ("gestion/" in p or "api/v1/staff/" in p)
    ]
    assert len(staff_patterns) >= 15
    tried = []
    for pattern in staff_patterns:
        path = _example_path(pattern, "commune-a")
        taken = [m for m in METHODS if manager_a.generic(m, path).status_code != 405]
        assert taken, f"{path}: the manager of A could use no method at all"
        for method in METHODS:
            status = manager_b.generic(method, path).status_code
            expected = (403,) if method in taken else (403, 405)
            assert status in expected, f"{method} {path} → {status} for the manager of B"
        tried += [(method, path) for method in taken]
    # Pages take any method unless decorated otherwise; the API's views take theirs.
    assert {method for method, _ in tried} >= {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
