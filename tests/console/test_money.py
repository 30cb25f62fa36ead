"""The platform's money flows equal the ledger: every figure is a sum of Posting rows, and the
page says whether the ledger balances."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import F, Sum

from console.money import money_flows
from shared_apps.families.services import get_or_create_family
from shared_apps.wallet.models import POCKET_KINDS, Account, Posting
from shared_apps.wallet.services import credit_top_up
from tests.factories import UserFactory
from tests.fixtures.bookings import NOW, PARIS

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"
START = datetime.datetime(2026, 12, 1, tzinfo=PARIS)
END = datetime.datetime(2027, 1, 1, tzinfo=PARIS)


def _pockets_in_ledger(**filters) -> int:
    return (
        Posting.objects.filter(account__kind__in=POCKET_KINDS, **filters).aggregate(
            s=Sum("amount_cents")
        )["s"]
        or 0
    )


def _activity(parent, canteen):
    """Top-up (100 € in A's canteen pocket, by the fixture), 20 € of general credit, four meals
    paid from the wallet, one cancelled in time (refunded)."""
    other = get_or_create_family(UserFactory())
    credit_top_up(source_key="general:1", family_id=other.pk, amount_cents=2000)
    added = parent.api.post(
        f"{BASE}/cart/items",
        {
            "product_id": canteen.pk,
            "child_ids": [k.pk for k in parent.kids],
            "dates": ["2026-12-07", "2026-12-08"],
        },
    )
    assert added.status_code == 201
    assert parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"}).status_code in (
        200,
        201,
    )
    mine = parent.api.get(f"{BASE}/reservations").json()
    first = (mine.get("results") or mine)[0]["id"]
    assert parent.api.post(f"{BASE}/reservations/{first}/cancel").status_code == 200


def test_the_flows_are_the_ledgers_sums_and_balance(frozen, parent, canteen, commune_a):
    _activity(parent, canteen)

    flows = money_flows(START, END, now=NOW)

    a = next(r for r in flows.rows if r.commune == commune_a)
    assert a.top_ups == 10_000
    assert a.spending == -4 * 380
    assert a.refunds == 380
    assert a.closing_cents == _pockets_in_ledger(account__commune=commune_a)
    assert a.closing_cents == 10_000 - 3 * 380
    general = next(r for r in flows.rows if r.commune is None)
    assert general.top_ups == 2000
    assert flows.opening_cents == 0
    assert flows.closing_cents == _pockets_in_ledger() == 10_000 - 3 * 380 + 2000
    cached = Account.objects.filter(kind__in=POCKET_KINDS).aggregate(s=Sum("balance_cents"))["s"]
    assert flows.cached_cents == cached == flows.closing_cents
    assert flows.total.net == flows.closing_cents - flows.opening_cents
    assert flows.balanced


def test_a_period_before_the_activity_opens_with_its_balance(frozen, parent, canteen, commune_a):
    _activity(parent, canteen)
    later = money_flows(END, END + datetime.timedelta(days=30), now=NOW)
    assert later.opening_cents == later.closing_cents == _pockets_in_ledger()
    assert later.total.net == 0 and later.balanced


def test_the_page_states_the_ledger_balances_or_shows_the_gap(
    frozen, parent, canteen, commune_a, operator
):
    _activity(parent, canteen)

    page = operator.web.get("/operateur/flux/", {"start": "2026-12-01", "end": "2026-12-31"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Le grand livre est équilibré" in text
    assert "Commune A" in text and "100,00" in text

    # A cached balance that drifted from its postings (written behind the services' back; a
    # transaction that does not sum to zero cannot even be committed: a database trigger).
    pocket = Account.objects.filter(kind__in=POCKET_KINDS, balance_cents__gt=0).first()
    Account.objects.filter(pk=pocket.pk).update(balance_cents=F("balance_cents") + 100)

    text = operator.web.get(
        "/operateur/flux/", {"start": "2026-12-01", "end": "2026-12-31"}
    ).content.decode()
    assert "Écart dans le grand livre" in text and "verify_ledger" in text


def test_a_bad_period_is_explained(operator):
    response = operator.web.get("/operateur/flux/", {"start": "2026-12-31", "end": "2026-12-01"})
    assert response.status_code == 400
    assert "La fin de la période précède son début." in response.content.decode()
