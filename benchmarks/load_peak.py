"""The evening peak under load: locust against gunicorn on the loopback (issue 15).

    MARELLE_ENV=demo .venv/bin/python benchmarks/load_peak.py            # 60 users, 60 s
    MARELLE_ENV=demo .venv/bin/python benchmarks/load_peak.py --users 20 --seconds 20 --workers 2

What runs: benchmarks/load/locustfile.py — parents browsing calendars (5 in 7 of their
actions), booking a week for two children from the wallet then cancelling it (2 in 7), agents
opening headcounts, and a baseline user asking `/healthz` in the same run; every operation is
reported with requests/s, p50/p95 and its ratio to the baseline's, plus the error rate (goal: 0).
Afterwards `verify_ledger` must pass and every family's pocket must equal its funds less the
places it still holds, or the run fails.

Same database discipline as the other benchmarks (_common.py): the embedded PostgreSQL, database
`marelle_bench`, recreated unless --reuse-db; the commune and families it creates are dropped at
the end. Logins use the MD5 hasher in this run only (a shim settings module), so seeding a hundred
families does not take a minute of PBKDF2; the hasher is not what is measured.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    ROOT,
    add_db_arguments,
    canteen_product,
    drop_bench_communes,
    drop_families,
    machine_summary,
    setup_django,
)

SLUG = "bench-load"
EMAIL_PREFIX = "bench-load-"
PASSWORD = "banc-d-essai-du-soir-42"
FUNDS_CENTS = 100_000
PRICE_CENTS = 380
SETTINGS = "load_peak_settings"
SETTINGS_SOURCE = """\
# Written by benchmarks/load_peak.py; deleted when it finishes.
from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
"""


def prepare(families: int, staff: int):
    """The commune, its canteen, `families` parents with two enrolled children and funds, and
    `staff` agents. Returns (commune, product, parents, agents)."""
    from django.contrib.auth import get_user_model
    from django.test import override_settings
    from django_tenants.utils import tenant_context

    from demo.builders import enrol_family
    from shared_apps.families.services import add_child, get_or_create_family
    from shared_apps.wallet.services import credit_top_up
    from tenant_apps.catalog.models import Service
    from tenants.models import Membership
    from tenants.selectors import forget_commune
    from tenants.services import create_commune

    commune = create_commune(
        slug=SLUG, name="Commune de charge", insee_code="01001", holiday_zone="A"
    )
    forget_commune()
    with tenant_context(commune):
        service = Service.objects.create(kind="cantine", name="Cantine", payment_methods=["wallet"])
        product = canteen_product(service, price_cents=PRICE_CENTS)
    users = get_user_model()
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        agents = []
        for index in range(staff):
            agent = users(email=f"{EMAIL_PREFIX}agent{index}@exemple.fr", last_name="Agent")
            agent.set_password(PASSWORD)
            agent.email_verified_at = datetime.datetime.now(datetime.UTC)
            agent.save()
            Membership.objects.create(user=agent, commune=commune, role="agent")
            agents.append(agent)
        parents = []
        for index in range(families):
            parent = users(email=f"{EMAIL_PREFIX}{index}@exemple.fr", last_name=f"Soir{index}")
            parent.set_password(PASSWORD)
            parent.email_verified_at = datetime.datetime.now(datetime.UTC)
            parent.save()
            kids = [
                add_child(
                    user=parent,
                    data={
                        "last_name": parent.last_name,
                        "first_name": f"Enfant{i}",
                        "birth_date": f"201{5 + i}-03-0{i + 1}",
                        "relation": "mother",
                        "school_class": ["CM1", "CE2"][i],
                    },
                )
                for i in range(2)
            ]
            family = get_or_create_family(parent)
            enrol_family(
                commune=commune, service=service, parent=parent, children=kids, decided_by=agents[0]
            )
            credit_top_up(
                source_key=f"bench-load:{family.pk}",
                family_id=family.pk,
                amount_cents=FUNDS_CENTS,
                commune=commune,
                service_id=service.pk,
            )
            parent.kids, parent.family = kids, family
            parents.append(parent)
    return commune, product, parents, agents


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(shim_dir: Path, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "MARELLE_ENV": "demo",
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PYTHONPATH": os.pathsep.join([str(shim_dir), str(ROOT)]),
    }
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
        str(workers), "--timeout", "120", "--log-level", "warning", "config.wsgi:application",
    ]  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def check_money(commune, parents) -> list[str]:
    """What does not add up after the run: the ledger, and each family's pocket against the
    places it still holds."""
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from shared_apps.wallet.selectors import pockets_of
    from tenant_apps.bookings.models import Reservation

    problems = []
    try:
        call_command("verify_ledger", verbosity=0)
    except Exception as error:  # reported: the run fails
        problems.append(f"verify_ledger: {error}")
    with tenant_context(commune):
        for parent in parents:
            held = sum(
                r.price_cents - r.refund_cents
                for r in Reservation.objects.filter(child_id__in=[k.pk for k in parent.kids])
            )
            balance = sum(p.balance_cents for p in pockets_of(parent.family.pk))
            if balance + held != FUNDS_CENTS:
                problems.append(f"famille {parent.family.pk}: {balance} + {held} ≠ {FUNDS_CENTS}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=60, help="simulated people (default 60)")
    parser.add_argument("--seconds", type=int, default=60, help="duration (default 60)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    add_db_arguments(parser)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).parent))
    setup_django(reuse_db=args.reuse_db)
    from benchmarks.load import harness

    drop_families(email_prefix=EMAIL_PREFIX, commune_slug=SLUG)
    drop_bench_communes("bench-load")
    parents_count = max(1, args.users * 8 // 10)
    agents_count = max(1, args.users // 10)
    started = time.perf_counter()
    commune, product, parents, agents = prepare(parents_count, agents_count)
    print(f"{parents_count} familles et {agents_count} agents préparés en "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="marelle-load-"))
    (workdir / f"{SETTINGS}.py").write_text(SETTINGS_SOURCE)
    server, host = start_gunicorn(workdir, args.workers, workdir / "gunicorn.log")
    try:
        today = datetime.date.today()
        fixture = {
            "slug": SLUG,
            "product_id": product.pk,
            "families": [
                {
                    "token": harness.api_token(host, p.email, PASSWORD),
                    "child_ids": [k.pk for k in p.kids],
                }
                for p in parents
            ],
            "staff_tokens": [harness.api_token(host, a.email, PASSWORD) for a in agents],
            "headcount_dates": [(today + datetime.timedelta(days=n)).isoformat() for n in range(7)],
        }
        report = harness.run_locust(
            host=host,
            fixture=fixture,
            workdir=workdir,
            users=args.users,
            spawn_rate=max(1, args.users // 5),
            seconds=args.seconds,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(machine_summary())
    print(f"gunicorn : {args.workers} workers synchrones ; locust : {args.users} utilisateurs, "
          f"{args.seconds} s, attente 0,2–1 s entre deux actions")  # fmt: skip
    print(report.table())
    for failure in report.failures[:10]:
        print("ÉCHEC", failure)
    problems = check_money(commune, parents)
    for problem in problems:
        print("ARGENT", problem)
    drop_families(email_prefix=EMAIL_PREFIX, commune_slug=SLUG)
    drop_bench_communes("bench-load")
    if report.failures or report.error_rate or problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
