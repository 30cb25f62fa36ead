"""The evening peak, short mode (issue 15): locust, headless, on the loopback, bounded in time.

Eight parents browse calendars, book a week for their two children from the wallet and cancel it,
an agent opens the headcounts and a baseline user asks /healthz, for a few seconds against the
live server (a thread of this process). Any answer outside the contract counts as an error; the
goal is none. Afterwards money and bookings must agree: the ledger verifies, and every family's
pocket holds its funds less the places it still holds (none, when every iteration cancelled).

The full run (gunicorn, more users, longer) is benchmarks/load_peak.py; figures in
benchmarks/README.md.
"""

from __future__ import annotations

import datetime
import importlib.util

import pytest
from django.core.management import call_command

from benchmarks.load import harness
from tenant_apps.bookings.models import Reservation
from tenants.models import Membership
from tests.factories import PASSWORD, UserFactory
from tests.fixtures.bookings import make_family

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="locust not installed"),
]

FUNDS_CENTS = 10_000
FAMILIES = 6


def test_evening_peak_without_errors(live_server, commune_a, in_commune, canteen, tmp_path):
    families = [
        make_family(commune_a, in_commune, canteen.service, funds_cents=FUNDS_CENTS)
        for _ in range(FAMILIES)
    ]
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    today = datetime.date.today()
    fixture = {
        "slug": commune_a.slug,
        "product_id": canteen.pk,
        "families": [
            {
                "token": harness.api_token(live_server.url, parent.email, PASSWORD),
                "child_ids": [kid.pk for kid in parent.kids],
            }
            for parent in families
        ],
        "staff_tokens": [harness.api_token(live_server.url, agent.email, PASSWORD)],
        "headcount_dates": [(today + datetime.timedelta(days=n)).isoformat() for n in range(7)],
        "wait_min": 0.05,
        "wait_max": 0.3,
    }

    report = harness.run_locust(
        host=live_server.url,
        fixture=fixture,
        workdir=tmp_path,
        users=FAMILIES + 2,
        spawn_rate=FAMILIES + 2,
        seconds=6,
    )
    print(report.table())  # shown with -s; the full run's figures are in benchmarks/README.md

    assert report.failures == [], report.failures[:5]
    assert report.error_rate == 0
    ops = report.operations
    # Every kind of user did its part: weeks paid and cancelled, headcounts, the baseline.
    assert ops["paiement (porte-monnaie)"].requests > 0
    assert ops["réserver et payer (app) : une semaine, 2 enfants"].requests > 0
    assert ops["annulation"].requests > 0
    assert ops["effectifs (agent)"].requests > 0
    assert ops[harness.BASELINE].requests > 0

    call_command("verify_ledger")  # exits non-zero (CommandError) when anything is off
    with in_commune(commune_a):
        held = {
            parent.family.pk: sum(
                r.price_cents - r.refund_cents
                for r in Reservation.objects.filter(child_id__in=[k.pk for k in parent.kids])
            )
            for parent in families
        }
    for parent in families:
        pockets = parent.api.get("/api/v1/wallet").json()
        assert pockets["total_cents"] + held[parent.family.pk] == FUNDS_CENTS
