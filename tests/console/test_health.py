"""The communes' health figures: computed in the background, idempotent, right, and read by the
console's list in a number of queries that does not grow with the number of communes."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from console.health import refresh_health
from console.models import CommuneHealth
from console.tasks import refresh_commune_health_task, refresh_health_task
from shared_apps.audit.models import AuditEntry
from shared_apps.wallet.models import AccountKind, Posting
from tenants.models import Commune
from tests.fixtures.bookings import PARIS

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"
MONDAY = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)


def _book(parent, canteen, dates):
    added = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [k.pk for k in parent.kids], "dates": dates},
    )
    assert added.status_code == 201, added.json()
    done = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})
    assert done.status_code in (200, 201), done.json()


def _figures(commune) -> tuple:
    h = CommuneHealth.objects.get(commune=commune)
    return (h.families, h.bookings_this_week, h.week_start, h.pockets_cents, h.last_activity_at)


def test_the_figures_are_right_and_a_second_run_changes_nothing(
    frozen, parent, canteen, commune_a, commune_b
):
    # Two children, Monday and Tuesday of next week, and Thursday of the week after.
    _book(parent, canteen, ["2026-12-07", "2026-12-08", "2026-12-17"])
    frozen.move_to(MONDAY)

    assert refresh_health() == Commune.objects.count()
    first = _figures(commune_a)
    assert refresh_health() == Commune.objects.count()

    assert _figures(commune_a) == first  # idempotent
    assert CommuneHealth.objects.filter(commune=commune_a).count() == 1
    families, bookings, week_start, pockets, last_activity = first
    assert families == 1
    assert bookings == 4  # 2 children × Monday and Tuesday; the 17th is another week
    assert week_start == datetime.date(2026, 12, 7)
    in_pockets = sum(
        Posting.objects.filter(
            account__kind=AccountKind.SERVICE_POCKET, account__commune=commune_a
        ).values_list("amount_cents", flat=True)
    )
    assert pockets == in_pockets == 10_000 - 6 * 380
    assert last_activity is not None
    assert _figures(commune_b)[:2] == (0, 0) and _figures(commune_b)[3] == 0


def test_operators_own_actions_are_not_the_communes_activity(commune_a, operator):
    AuditEntry.objects.create(actor=operator, commune=commune_a, action="operator.health_refresh")
    refresh_health([commune_a])
    assert CommuneHealth.objects.get(commune=commune_a).last_activity_at is None


def test_the_beat_task_and_the_on_demand_refresh(commune_a, commune_b, operator):
    assert refresh_health_task.delay().get() == Commune.objects.count()
    assert refresh_commune_health_task.delay(commune_a.pk).get() == 1
    assert refresh_commune_health_task.delay(999_999).get() == 0

    response = operator.web.post(f"/operateur/communes/{commune_a.pk}/actualiser/", follow=True)

    assert "Les chiffres de Commune A sont à jour." in response.content.decode()
    assert AuditEntry.objects.filter(action="operator.health_refresh", actor=operator).exists()


def test_the_list_shows_the_figures_their_age_and_finds_by_name_or_insee(
    frozen, parent, canteen, commune_a, commune_b, operator
):
    refresh_health()

    page = operator.web.get("/operateur/").content.decode()
    assert "Commune A" in page and "Commune B" in page
    assert "100,00" in page  # commune A's pockets
    assert "il y a" in page and "Chiffres du" in page

    by_insee = operator.web.get("/operateur/", {"q": "43157"}).content.decode()
    assert "Commune B" in by_insee and "Commune A" not in by_insee
    by_name = operator.web.get("/operateur/", {"q": "une a"}).content.decode()
    assert "Commune A" in by_name and "Commune B" not in by_name


def _many_communes(count: int) -> None:
    """Communes rows with health rows but no schema: the list must never need one."""
    now = datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC)
    for i in range(count):
        commune = Commune(
            schema_name=f"c_sans_schema_{i}",
            slug=f"sans-schema-{i}",
            name=f"Sans schéma {i:03d}",
            insee_code="01001",
            holiday_zone="A",
        )
        commune.auto_create_schema = False
        commune.save()
        CommuneHealth.objects.create(commune=commune, families=i, computed_at=now)


def _queries(client, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, params or {}).status_code == 200
    return len(captured)


def test_the_console_pages_query_counts_do_not_grow_with_the_communes(
    commune_a, commune_b, operator
):
    refresh_health()
    _queries(operator.web, "/operateur/")  # session warmed
    few = {
        "list": _queries(operator.web, "/operateur/"),
        "search": _queries(operator.web, "/operateur/", {"q": "commune"}),
        "money": _queries(operator.web, "/operateur/flux/"),
        "detail": _queries(operator.web, f"/operateur/communes/{commune_a.pk}/"),
    }

    _many_communes(120)  # more than a page

    many = {
        "list": _queries(operator.web, "/operateur/"),
        "search": _queries(operator.web, "/operateur/", {"q": "sans"}),
        "money": _queries(operator.web, "/operateur/flux/"),
        "detail": _queries(operator.web, f"/operateur/communes/{commune_a.pk}/"),
    }
    assert many == few
    # list/search: session, user, count, the page (communes with their health rows), the
    # failed jobs per commune; detail: session, user, the commune with its health, the
    # operators' actions; money: session, user, the period's movements, the pockets before its
    # start and before its end, the cached balances, the unbalanced transactions.
    assert few == {"list": 5, "search": 5, "money": 7, "detail": 4}


def test_the_list_counts_each_communes_failed_jobs_of_the_last_days(commune_a, commune_b, operator):
    from django.utils import timezone

    from shared_apps.jobs.models import JobRun, JobStatus

    now = timezone.now()
    ages = (0, 1, 30)
    for i, days in enumerate(ages):
        started = now - datetime.timedelta(days=days)
        JobRun.objects.create(
            task_id=f"run-{i}",
            task_name="tenant_apps.billing.tasks.build_invoices_task",
            commune=commune_a,
            status=JobStatus.FAILED,
            started_at=started,
        )

    page = operator.web.get("/operateur/")

    rows = {c.slug: c.failed_jobs for c in page.context["page"].object_list}
    assert rows["commune-a"] == 2  # the one of 30 days ago is too old
    assert rows["commune-b"] == 0
    assert '<strong>2</strong><span class="visually-hidden"> tâches en échec à Commune A' in (
        page.content.decode()
    )
