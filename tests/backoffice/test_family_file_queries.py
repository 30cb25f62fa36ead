"""The family search and the family file cost a constant number of queries, whatever the
number of families, children, bookings or movements (pinned)."""

from __future__ import annotations

import pytest

from shared_apps.families.services import add_child, note_commune
from shared_apps.wallet.services import credit_top_up
from tenant_apps.bookings.models import Reservation
from tenant_apps.bookings.services.on_behalf import book_on_behalf
from tests.fixtures.bookings import make_family

pytestmark = pytest.mark.django_db

PAGE = "/c/commune-a/gestion/familles/"
# Measured (session, commune, membership, audit included): the search page 10 for 2 or 12
# families, the family page 23 (its counter receipts: one query) for 1 or 14 bookings.
SEARCH_QUERIES = 10
FILE_QUERIES = 23


def _families(n, commune, in_commune, canteen):
    return [make_family(commune, in_commune, canteen.service, children=2) for _ in range(n)]


@pytest.mark.parametrize("n", [2, 12])
def test_search_queries_do_not_grow_with_the_families(
    n, client, agent, commune_a, in_commune, canteen, django_assert_max_num_queries
):
    _families(n, commune_a, in_commune, canteen)
    client.force_login(agent)
    client.get(PAGE)  # warm the session and the commune cache
    with django_assert_max_num_queries(SEARCH_QUERIES):
        page = client.get(PAGE, {"q": "enfant"}).content.decode()
    assert page.count("Enfant0") == n


@pytest.mark.parametrize("days", [1, 14])
def test_file_queries_do_not_grow_with_the_rows(
    days,
    frozen,
    client,
    agent,
    parent,
    commune_a,
    in_commune,
    canteen,
    django_assert_max_num_queries,
):
    for i in range(3):
        add_child(
            user=parent,
            data={
                "last_name": parent.last_name,
                "first_name": f"Autre{i}",
                "birth_date": "2020-01-0" + str(i + 1),
                "relation": "mother",
            },
        )
    note_commune(family_id=parent.family.pk, commune=commune_a)
    credit_top_up(
        source_key="more",
        family_id=parent.family.pk,
        amount_cents=50_000,
        commune=commune_a,
        service_id=canteen.service.pk,
    )
    open_days = [
        "2026-12-07",
        "2026-12-08",
        "2026-12-10",
        "2026-12-11",
        "2026-12-14",
        "2026-12-15",
        "2026-12-17",
        "2026-12-18",
    ][: max(1, days // 2)]
    with in_commune(commune_a):
        for kid in parent.kids:
            for day in open_days[: days // len(parent.kids) or 1]:
                book_on_behalf(
                    commune=commune_a,
                    staff_user=agent,
                    child_id=kid.pk,
                    product_id=canteen.pk,
                    dates=[day],
                    consent_note="note",
                )
        Reservation.objects.filter(date="2026-12-07").update(status="attended")
    client.force_login(agent)
    client.get(PAGE)
    with django_assert_max_num_queries(FILE_QUERIES):
        response = client.get(f"{PAGE}{parent.family.pk}/")
    assert response.status_code == 200
