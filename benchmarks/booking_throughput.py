"""Throughput of a real booking (a month for two children, paid from the wallet) vs one insert.

The user action, over real HTTP, with the parent's Bearer token, in the API's two ways
(`--flows`, both by default):

    direct: POST /c/<slug>/api/v1/reservations  {"product_id", "child_ids": [2 ids],
                                                 "dates": [16 days], "payment_method": "wallet"}
    cart:   POST /c/<slug>/api/v1/cart/items     {"product_id", "child_ids", "dates"}
            POST /c/<slug>/api/v1/cart/checkout  {"payment_method": "wallet"}

i.e. 32 reservations checked, booked, counted against the day's capacity and paid from the
family's wallet, all or nothing. The baseline is the cheapest write the same stack can
serve: `POST /c/<slug>/bench/insert`, a DRF view that inserts one row (a `catalog.Closure` of a
separate service) in the commune's schema. It exists only in this script: a URLconf shim written
to a temporary directory puts it in front of `config.urls`, so middleware, Bearer authentication
and commune resolution are the project's own, identical for both endpoints.

Both run against one gunicorn server (sync workers, one per core by default) started by the
script on 127.0.0.1 and a free port, on the benchmark database, in the same run: in each round,
slices of the bookings and of the inserts alternate (ABBA), so a change of load weighs on both,
at each concurrency level (client threads). The booked days are the first 16 open days of the
first month starting at least three weeks ahead (school days, zone A), so every deadline is met
without freezing the clock. Each booking is made by a different family, enrolled and funded
before the clock starts, so capacity and the "already booked" rule never get in the way; the
database is checked afterwards. Query counts and a breakdown of the time (SQL vs Python, how
long a checkout holds the day counters' locks) come from in-process runs (django.test.Client),
before the server starts. Last, checkouts of the same days by different families with 1 to 4
gunicorn workers (`--scaling`) show whether they go through together. See benchmarks/README.md.

    MARELLE_ENV=demo .venv/bin/python benchmarks/booking_throughput.py [--rounds 5] [--families 30]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from _common import (
    ROOT,
    add_db_arguments,
    canteen_product,
    drop_bench_communes,
    drop_families,
    machine_summary,
    print_table,
    setup_django,
)

SLUG = "bench-booking"
DAYS = 16  # school days booked per action
CHILDREN = 2
FUNDS_CENTS = 20_000  # more than a month for two (16 x 2 x 3.80 EUR = 121.60 EUR)
PRICE_CENTS = 380
BASELINE_FIRST_DAY = datetime.date(2200, 1, 1)  # baseline closures: one distinct day per insert
URLCONF = "bench_booking_urls"
SETTINGS = "bench_booking_settings"
BENCH_DIR = Path(__file__).resolve().parent
EMAIL_PREFIX = "bench-parent-"


# --- The baseline endpoint (imported by the URLconf shim, in the server and in process) --------


def bench_urlpatterns() -> list:
    """config.urls plus `c/<slug>/bench/insert`: one INSERT, behind the same middleware and auth."""
    from django.urls import path
    from rest_framework import status
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from config.urls import urlpatterns
    from tenant_apps.catalog.models import Closure

    class InsertOneView(APIView):
        """Default DRF authentication (Bearer token) and permission (authenticated)."""

        def post(self, request):
            closure = Closure.objects.create(
                service_id=int(request.data["service_id"]),
                date=BASELINE_FIRST_DAY + datetime.timedelta(days=int(request.data["n"])),
                reason="banc d’essai",
            )
            return Response({"id": closure.pk}, status=status.HTTP_201_CREATED)

    return [path("c/<slug:commune_slug>/bench/insert", InsertOneView.as_view()), *urlpatterns]


URLCONF_SOURCE = """\
# Written by benchmarks/booking_throughput.py; deleted when it finishes.
from booking_throughput import bench_urlpatterns
from config.urls import handler403, handler404, handler500  # noqa: F401

urlpatterns = bench_urlpatterns()
"""

SETTINGS_SOURCE = """\
# Written by benchmarks/booking_throughput.py; deleted when it finishes.
from config.settings import *  # noqa: F403

ROOT_URLCONF = {urlconf!r}
DATABASES["default"]["CONN_MAX_AGE"] = {conn_max_age}  # noqa: F405
"""


def write_shims(directory: Path, conn_max_age: int) -> None:
    (directory / f"{URLCONF}.py").write_text(URLCONF_SOURCE)
    (directory / f"{SETTINGS}.py").write_text(
        SETTINGS_SOURCE.format(urlconf=URLCONF, conn_max_age=conn_max_age)
    )


# --- Data, prepared before the clock starts -------------------------------------------------


@dataclass(frozen=True)
class Family:
    token: str
    child_ids: list[int]


def prepare_commune():
    """The commune, its canteen (the product booked) and the baseline's own service."""
    from django_tenants.utils import tenant_context

    from tenant_apps.catalog.models import Service
    from tenants.selectors import forget_commune
    from tenants.services import create_commune

    commune = create_commune(
        slug=SLUG, name="Commune de banc d’essai", insee_code="01001", holiday_zone="A"
    )
    forget_commune()
    with tenant_context(commune):
        canteen = Service.objects.create(
            kind="cantine", name="Cantine", payment_methods=["wallet", "card", "direct_debit"]
        )
        # A daily capacity, so that its checks run, that is never reached.
        product = canteen_product(canteen, price_cents=PRICE_CENTS, daily_capacity=100_000)
        baseline = Service.objects.create(kind="cantine", name="Banc d’essai (insertions)")
    return commune, product, baseline


def month_to_book(product) -> list[datetime.date]:
    """The first DAYS open days of the first month that starts at least three weeks ahead and
    has that many (the canteen's weekdays, zone A school days, public holidays excluded)."""
    from django.utils import timezone

    from tenant_apps.bookings import rules
    from tenants.calendar import calendar_for_place, place_of

    calendar = calendar_for_place(place_of("01001"))
    first = timezone.localdate() + datetime.timedelta(days=21)
    month = first.replace(day=1)
    if month < first:
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    for _ in range(12):
        days, day = [], month
        while day.month == month.month:
            if rules.is_open(
                day,
                weekdays=product.weekdays,
                opening_period=product.opening_period,
                calendar=calendar,
                closures=set(),
            ):
                days.append(day)
            day += datetime.timedelta(days=1)
        if len(days) >= DAYS:
            return days[:DAYS]
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    raise SystemExit(f"No month with {DAYS} open days in the next year.")


def make_families(commune, service, count: int) -> list[Family]:
    """Enrolled families with two children and funds in the canteen's pocket (as make_family in
    tests/bookings/conftest.py, without the test factories: no password hashing), and both
    wallet pockets, as after an earlier payment."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from demo.builders import enrol_family
    from shared_apps.accounts.api_tokens import issue as issue_api_token
    from shared_apps.accounts.models import ApiToken
    from shared_apps.families.services import add_child, get_or_create_family
    from shared_apps.wallet.services import credit_top_up, general_pocket, wallet_of_family

    user_model = get_user_model()
    run = time.strftime("%Y%m%d%H%M%S")  # --reuse-db keeps the public rows of earlier runs
    agent = user_model(email=f"{EMAIL_PREFIX}{run}-agent@exemple.fr", last_name="Agent")
    agent.set_unusable_password()
    agent.save()
    families = []
    for index in range(count):
        parent = user_model(
            email=f"{EMAIL_PREFIX}{run}-{index}@exemple.fr", last_name=f"Banc{index}"
        )
        parent.set_unusable_password()
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
            for i in range(CHILDREN)
        ]
        family = get_or_create_family(parent)
        # Enrolled as through the pages (request with documents, accepted by an agent).
        enrol_family(
            commune=commune, service=service, parent=parent, children=kids, decided_by=agent
        )
        credit_top_up(
            source_key=f"bench-seed:{family.pk}",
            family_id=family.pk,
            amount_cents=FUNDS_CENTS,
            commune=commune,
            service_id=service.pk,
        )
        # A family that has paid before: its first payment would also create this pocket.
        general_pocket(wallet_of_family(family.pk))
        issued = issue_api_token(parent, device="benchmark")
        # As after the app's first request (its calendar): the token's sliding expiry was just
        # moved, so the booking does not pay that UPDATE (API_TOKEN_TOUCH_SECONDS), as the
        # baseline's token, used over and over, does not either.
        ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=timezone.now())
        key = issued.key
        families.append(Family(key, [k.pk for k in kids]))
    return families


def drop_bench_families() -> int:
    """Delete this benchmark's families and their ledger rows; how many users were removed."""
    return drop_families(email_prefix=EMAIL_PREFIX, commune_slug=SLUG)


# --- The two actions, as requests --------------------------------------------------------------


FLOWS = ("direct", "cart")


@dataclass
class Target:
    """What the requests need to know, whether they go over HTTP or through the test Client."""

    product_id: int
    baseline_service_id: int
    dates: list[str]
    flow: str = "direct"

    def booking(self, family: Family) -> list[tuple[str, dict]]:
        """The requests of one booking: `POST reservations` (book and pay in one step, as the
        app does), or the cart's two (`cart/items`, then `cart/checkout`, as the pages do)."""
        base = f"/c/{SLUG}/api/v1"
        items = {"product_id": self.product_id, "child_ids": family.child_ids, "dates": self.dates}
        if self.flow == "direct":
            return [(f"{base}/reservations", {**items, "payment_method": "wallet"})]
        return [
            (f"{base}/cart/items", items),
            (f"{base}/cart/checkout", {"payment_method": "wallet"}),
        ]

    def with_flow(self, flow: str) -> Target:
        return Target(self.product_id, self.baseline_service_id, self.dates, flow)

    def insert(self, n: int) -> tuple[str, dict]:
        return f"/c/{SLUG}/bench/insert", {"service_id": self.baseline_service_id, "n": n}


class Failed(Exception):
    pass


def http_post(port: int, path: str, body: dict, token: str) -> float:
    """One request on a new connection (gunicorn's sync workers close it after each response)."""
    payload = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, payload, headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    elapsed = time.perf_counter() - started
    if response.status != 201:
        raise Failed(f"POST {path} answered {response.status}: {data[:300]!r}")
    return elapsed


@dataclass
class Batch:
    wall: float
    latencies: list[float]  # per action (both requests of a booking)
    parts: list[list[float]]  # per request of the action


def run_batch(pool: ThreadPoolExecutor, calls: list) -> Batch:
    started = time.perf_counter()
    results = list(pool.map(lambda call: call(), calls))
    wall = time.perf_counter() - started
    return Batch(wall, [sum(r) for r in results], results)


def run_round(
    pool: ThreadPoolExecutor, bookings: list, inserts: list, *, chunks: int, bookings_first: bool
) -> tuple[Batch, Batch]:
    """Both batches cut into `chunks` slices that alternate (which goes first alternates from
    round to round), so that a change of load on the machine weighs on both alike."""
    done: dict[str, list[Batch]] = {"book": [], "insert": []}
    calls = {"book": bookings, "insert": inserts}
    order = ("book", "insert") if bookings_first else ("insert", "book")
    for index in range(chunks):
        for kind in order if index % 2 == 0 else order[::-1]:
            size = -(-len(calls[kind]) // chunks)  # ceiling
            piece = calls[kind][index * size : (index + 1) * size]
            if piece:
                done[kind].append(run_batch(pool, piece))
    merged = [
        Batch(
            sum(b.wall for b in batches),
            [x for b in batches for x in b.latencies],
            [x for b in batches for x in b.parts],
        )
        for batches in done.values()
    ]
    return merged[0], merged[1]


def measure_levels(port, target, families, levels, args, *, first_family, first_insert):
    """For each concurrency level: a warm-up, then the rounds. Returns the batches per level and
    how many families and baseline numbers were used."""

    def booking_call(family: Family):
        return lambda: [http_post(port, p, b, family.token) for p, b in target.booking(family)]

    def insert_call(n: int):
        path, body = target.insert(n)
        return lambda: [http_post(port, path, body, families[0].token)]

    results = {}
    next_family, next_insert = first_family, first_insert

    def take_families(count: int) -> list[Family]:
        nonlocal next_family
        taken = families[next_family : next_family + count]
        next_family += count
        assert len(taken) == count, "not enough families prepared"
        return taken

    def take_inserts(count: int) -> list:
        nonlocal next_insert
        calls = [insert_call(n) for n in range(next_insert, next_insert + count)]
        next_insert += count
        return calls

    for level in levels:
        with ThreadPoolExecutor(level) as pool:
            run_batch(pool, [booking_call(f) for f in take_families(args.warmup)])
            run_batch(pool, take_inserts(10 * args.warmup))
            bookings, inserts = [], []
            for round_no in range(args.rounds):
                b, i = run_round(
                    pool,
                    [booking_call(f) for f in take_families(args.families)],
                    take_inserts(args.inserts),
                    chunks=min(args.chunks, args.families),
                    bookings_first=round_no % 2 == 0,
                )
                bookings.append(b)
                inserts.append(i)
                print(
                    f"  concurrency {level}, round {round_no + 1}: "
                    f"{len(b.latencies) / b.wall:6.1f} bookings/s, "
                    f"{len(i.latencies) / i.wall:6.1f} inserts/s"
                )
            results[level] = (bookings, inserts)
    return results, next_family, next_insert


def _checkouts(port: int, target: Target, batch: list, workers: int) -> tuple[list[float], float]:
    """Fill the carts (untimed), check out 2 x workers of them (untimed, warm-up), then time the
    other checkouts with `workers` client threads. Returns their latencies and the wall time."""
    cart = target.with_flow("cart")
    (items_path, _), (checkout_path, checkout_body) = cart.booking(batch[0])

    def fill(family: Family) -> float:
        return http_post(port, items_path, cart.booking(family)[0][1], family.token)

    def check_out(family: Family) -> float:
        return http_post(port, checkout_path, checkout_body, family.token)

    warm = 2 * workers  # every worker's connection and caches warm
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fill, batch))
        list(pool.map(check_out, batch[:warm]))
        started = time.perf_counter()
        latencies = list(pool.map(check_out, batch[warm:]))
        wall = time.perf_counter() - started
    return latencies, wall


def measure_scaling(shim_dir, target, families, workers_levels, per_level, log):
    """Checkouts of one product and the same 16 days by different families, with 1, 2, 3, 4…
    gunicorn workers (processes, each with its own database connection) and as many client
    threads: the carts are filled first (untimed), then only the checkouts are timed, so what
    is measured is how checkouts of the same days go through together. Returns one row per
    level: (workers, checkouts, checkouts/s, p50 ms, p95 ms) and how many families were used."""
    rows, used = [], 0
    for workers in workers_levels:
        batch = families[used : used + per_level]
        used += per_level
        assert len(batch) == per_level, "not enough families prepared"
        server, port = start_server(shim_dir, workers, log)
        try:
            latencies, wall = _checkouts(port, target, batch, workers)
        finally:
            stop_server(server)
        rows.append(
            (
                workers,
                len(latencies),
                len(latencies) / wall,
                percentile(latencies, 0.5) * 1000,
                percentile(latencies, 0.95) * 1000,
            )
        )
        print(
            f"  {workers} worker(s): {len(latencies) / wall:6.1f} checkouts/s "
            f"(p50 {percentile(latencies, 0.5) * 1000:.0f} ms)"
        )
    return rows, used


# --- The server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(shim_dir: Path, workers: int, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "MARELLE_ENV": "demo",
        "MARELLE_DB_NAME": os.environ["MARELLE_DB_NAME"],
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PYTHONPATH": os.pathsep.join([str(shim_dir), str(BENCH_DIR), str(ROOT)]),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        "--log-level",
        "warning",
        "config.wsgi:application",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return server, port
        except OSError:
            time.sleep(0.1)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()  # the master stops its workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- Query counts, in process ----------------------------------------------------------------


@dataclass
class Profile:
    """One request of an action, run in process: its SQL, and where its time went."""

    sqls: list[str]
    walls: list[float]
    sql_times: list[float]  # time spent waiting on the database (statements and commits)
    held: list[float]  # from the day counters' upsert (their row locks) to the COMMIT
    revenue_held: list[float]  # from the wallet accounts' lock (the service's revenue) to COMMIT


def profile_in_process(target: Target, families: list[Family], first_n: int) -> dict:
    """Each request of both actions through django.test.Client (same stack, no HTTP).

    The first family's run is a warm-up (the first booking of a service also creates its revenue
    account); the second captures the SQL (CaptureQueriesContext, whose debug cursor slows every
    query down, so that run is not timed); the others are timed: in all, waiting on the database
    (every statement through an execute wrapper, plus the commit), and how long the checkout holds
    the hot rows: the day counters (`locks.take_places`' upsert to COMMIT), which every other
    checkout of the same days must wait for, and the service's revenue account (the wallet
    accounts' lock to COMMIT), which every wallet payment to the service must wait for."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    profiles: dict[str, Profile] = {}
    client = Client()
    clock = {"in_db": 0.0, "locked_at": None, "held": 0.0, "paid_at": None, "revenue": 0.0}

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        if clock["locked_at"] is None and sql.startswith('INSERT INTO "bookings_daycount"'):
            clock["locked_at"] = started
        if clock["paid_at"] is None and "wallet_account" in sql and "FOR UPDATE" in sql:
            clock["paid_at"] = started  # the service's revenue account row is locked here
        try:
            return execute(sql, params, many, context)
        finally:
            clock["in_db"] += time.perf_counter() - started

    def post(name: str, path: str, body: dict, token: str, run: int) -> None:
        connection.ensure_connection()
        commit = connection._commit

        def timed_commit():
            started = time.perf_counter()
            try:
                return commit()
            finally:
                ended = time.perf_counter()
                clock["in_db"] += ended - started
                if clock["locked_at"] is not None:
                    clock["held"] = ended - clock["locked_at"]
                if clock["paid_at"] is not None:
                    clock["revenue"] = ended - clock["paid_at"]

        connection._commit = timed_commit  # the COMMIT does not go through execute()
        clock.update(in_db=0.0, locked_at=None, held=0.0, paid_at=None, revenue=0.0)
        capture = CaptureQueriesContext(connection) if run == 1 else contextlib.nullcontext()
        try:
            with capture as context, connection.execute_wrapper(timed):
                started = time.perf_counter()
                response = client.post(
                    path,
                    json.dumps(body),
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {token}",
                )
                wall = time.perf_counter() - started
        finally:
            del connection._commit
        if response.status_code != 201:
            raise Failed(f"POST {path} answered {response.status_code}: {response.content[:300]!r}")
        if run == 1:
            profiles[name] = Profile([q["sql"] for q in context], [], [], [], [])
        elif run > 1:
            profiles[name].walls.append(wall)
            profiles[name].sql_times.append(clock["in_db"])
            profiles[name].held.append(clock["held"])
            profiles[name].revenue_held.append(clock["revenue"])

    with override_settings(ROOT_URLCONF=URLCONF):
        for run, family in enumerate(families):
            for path, body in target.booking(family):
                name = path.rsplit("/api/v1/", 1)[1]
                post(name, path, body, family.token, run)
            path, body = target.insert(first_n + run)
            post("bench/insert (baseline)", path, body, families[0].token, run)
    connection.set_schema_to_public()
    return profiles


def kinds(sqls: list[str]) -> str:
    counts = Counter(sql.split(None, 1)[0].upper() for sql in sqls)
    return ", ".join(f"{n} {kind}" for kind, n in counts.most_common())


# --- Main ----------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def ms(seconds: float, digits: int = 0) -> str:
    return f"{seconds * 1000:.{digits}f}"


def summary_row(label: str, bookings: list[Batch], inserts: list[Batch], days: int) -> list[str]:
    book_rates = [len(b.latencies) / b.wall for b in bookings]
    insert_rates = [len(i.latencies) / i.wall for i in inserts]
    ratios = [i / b for b, i in zip(book_rates, insert_rates, strict=True)]
    actions = [x for b in bookings for x in b.latencies]
    requests = len(bookings[0].parts[0])
    steps = [[parts[k] for b in bookings for parts in b.parts] for k in range(requests)]
    single = [x for i in inserts for x in i.latencies]
    return [
        label,
        f"{statistics.median(book_rates):.1f}",
        f"{statistics.median(book_rates) * days * CHILDREN:.0f}",
        f"{statistics.median(insert_rates):.0f}",
        f"{statistics.median(ratios):.1f}x ({min(ratios):.1f}-{max(ratios):.1f})",
        f"{ms(statistics.median(actions))} / {ms(percentile(actions, 0.95))}",
        " + ".join(ms(statistics.median(step)) for step in steps),
        f"{ms(statistics.median(single), 1)} / {ms(percentile(single, 0.95), 1)}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per level (5)")
    parser.add_argument(
        "--families", type=int, default=30, help="bookings per round, one family each (30)"
    )
    parser.add_argument("--inserts", type=int, default=300, help="baseline inserts per round (300)")
    parser.add_argument(
        "--flows",
        default="direct,cart",
        help="how a booking is made: direct (POST reservations, one request), cart (cart/items "
        "then cart/checkout); comma-separated, each measured (default direct,cart)",
    )
    parser.add_argument(
        "--concurrency",
        default="1,2",
        help="client threads, comma-separated levels, each timed on its own (default 1,2)",
    )
    parser.add_argument(
        "--chunks", type=int, default=3, help="slices per batch, alternating in a round (3)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers")
    parser.add_argument("--warmup", type=int, default=4, help="untimed bookings per level (4)")
    parser.add_argument(
        "--profile", type=int, default=10, help="in-process runs of each request profiled (10)"
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="CONN_MAX_AGE of the server (default 60, as production; the demo uses 0)",
    )
    parser.add_argument(
        "--scaling",
        default="1,2,3,4",
        help="gunicorn workers (and client threads) for the checkouts of the same days (1,2,3,4)",
    )
    parser.add_argument(
        "--scaling-checkouts",
        type=int,
        default=48,
        help="checkouts per scaling level, the first 2 x workers untimed (48)",
    )
    add_db_arguments(parser)
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    flows = [flow for flow in args.flows.split(",") if flow]
    if not flows or not set(flows) <= set(FLOWS):
        parser.error(f"--flows: among {', '.join(FLOWS)}")
    scaling = [int(level) for level in args.scaling.split(",") if level]

    started_run = time.perf_counter()
    setup_django(reuse_db=args.reuse_db)
    from django.db import connection
    from django_tenants.utils import tenant_context

    from tenant_apps.bookings.models import DayCount, Order, Reservation
    from tenant_apps.catalog.models import Closure

    left_rows = drop_bench_families()
    left = drop_bench_communes(SLUG)
    if left or left_rows:
        print(f"(removed what an earlier run left: {left} commune(s)/schema(s), {left_rows} rows)")
    shim_dir = Path(tempfile.mkdtemp(prefix="marelle-bench-"))
    server = None
    try:
        write_shims(shim_dir, args.conn_max_age)
        sys.path.insert(0, str(shim_dir))
        commune, product, baseline = prepare_commune()
        dates = month_to_book(product)
        target = Target(product.pk, baseline.pk, [d.isoformat() for d in dates])
        per_level = args.warmup + args.rounds * args.families
        started = time.perf_counter()
        profiled = 2 + args.profile  # in process: a warm-up, a run capturing SQL, timed runs
        families = make_families(
            commune,
            product.service,
            (profiled + per_level * len(levels)) * len(flows)
            + args.scaling_checkouts * len(scaling),
        )
        connection.set_schema_to_public()
        print(f"Machine: {machine_summary()}")
        print(
            f"Commune /c/{SLUG}/; booking {len(dates)} days ({dates[0]:%d/%m/%Y} to "
            f"{dates[-1]:%d/%m/%Y}) x {CHILDREN} children = {len(dates) * CHILDREN} reservations "
            f"per action; {len(families)} families prepared in "
            f"{time.perf_counter() - started:.1f} s"
        )

        profiles: dict = {}
        for index, flow in enumerate(flows):
            first = index * profiled
            for name, profile in profile_in_process(
                target.with_flow(flow), families[first : first + profiled], first
            ).items():
                profiles.setdefault(name if "baseline" in name else f"{flow}: {name}", profile)
        used_families = profiled * len(flows)

        server_log = shim_dir / "gunicorn.log"
        server, port = start_server(shim_dir, args.workers, server_log)
        print(
            f"gunicorn {args.workers} sync worker(s) on 127.0.0.1:{port}, "
            f"CONN_MAX_AGE={args.conn_max_age}; {args.rounds} rounds per level of "
            f"{args.families} bookings and {args.inserts} inserts in {args.chunks} alternating "
            f"slices; warm-up: {args.warmup} bookings and {args.warmup * 10} inserts per level\n"
        )
        results: dict = {}
        next_family, inserts_done = used_families, used_families
        try:
            for flow in flows:
                paths = [path for path, _ in target.with_flow(flow).booking(families[0])]
                print(f"Booking ({flow}): POST {' then POST '.join(paths)}")
                by_level, next_family, inserts_done = measure_levels(
                    port,
                    target.with_flow(flow),
                    families,
                    levels,
                    args,
                    first_family=next_family,
                    first_insert=inserts_done,
                )
                results.update({(flow, level): b for level, b in by_level.items()})
        except Failed:
            print(f"Server log (end):\n{server_log.read_text()[-3000:]}", file=sys.stderr)
            raise
        stop_server(server)
        server = None
        scaling_rows: list = []
        if scaling:
            print(
                f"\nCheckouts of the same {len(dates)} days, carts filled beforehand, "
                f"{args.scaling_checkouts} per level:"
            )
            try:
                scaling_rows, used = measure_scaling(
                    shim_dir,
                    target,
                    families[next_family:],
                    scaling,
                    args.scaling_checkouts,
                    server_log,
                )
            except Failed:
                print(f"Server log (end):\n{server_log.read_text()[-3000:]}", file=sys.stderr)
                raise
            next_family += used

        # The work was really done: every booking paid, every insert written.
        with tenant_context(commune):
            booked_actions = next_family
            reservations = Reservation.objects.count()
            orders = Order.objects.filter(status="paid", wallet_cents__gt=0).count()
            counts = set(DayCount.objects.values_list("booked", flat=True))
            closures = Closure.objects.filter(service=baseline).count()
        connection.set_schema_to_public()
        expected = booked_actions * len(dates) * CHILDREN
        checks_ok = (
            reservations == expected
            and orders == booked_actions
            and counts == {booked_actions * CHILDREN}
            and closures == inserts_done
        )
        print(
            f"\nCheck: {reservations} reservations (expected {expected}), {orders} paid orders "
            f"(expected {booked_actions}), day counts {sorted(counts)} (expected "
            f"{booked_actions * CHILDREN}), {closures} baseline rows (expected {inserts_done}): "
            f"{'OK' if checks_ok else 'MISMATCH'}\n"
        )
        if not checks_ok:
            raise SystemExit("The database does not hold what the requests should have written.")

        rows = [
            summary_row(f"{flow}, concurrency {level}", *batches, len(dates))
            for (flow, level), batches in results.items()
        ]
        print_table(
            [
                "medians over rounds",
                "bookings/s",
                "reservations/s",
                "inserts/s",
                "inserts/bookings",
                "booking p50/p95 ms",
                "p50 ms per request",
                "insert p50/p95 ms",
            ],
            rows,
        )
        print(
            f"\nIn process (django.test.Client, no HTTP), medians of {args.profile} runs after a "
            "warm-up and a run capturing the SQL:"
        )
        print_table(
            ["request", "queries", "ms", "of which SQL ms", "statements"],
            [
                [
                    name,
                    len(p.sqls),
                    ms(statistics.median(p.walls), 1),
                    ms(statistics.median(p.sql_times), 1),
                    kinds(p.sqls),
                ]
                for name, p in profiles.items()
            ],
        )
        for flow in flows:
            booking = [p for name, p in profiles.items() if name.startswith(f"{flow}: ")]
            print(
                f"a booking ({flow}): {sum(len(p.sqls) for p in booking)} queries, "
                f"{sum(statistics.median(p.walls) for p in booking) * 1000:.1f} ms in process "
                f"({sum(statistics.median(p.sql_times) for p in booking) * 1000:.1f} ms in SQL), "
                f"{len(dates) * CHILDREN} reservation rows"
            )
            paying = booking[-1]  # the request that takes the places and pays
            held = statistics.median(paying.held)
            revenue = statistics.median(paying.revenue_held)
            print(
                f"  it holds the row locks of the {len(dates)} day counters (capacity) for "
                f"{ms(held, 1)} ms (from their upsert to COMMIT) and the service's revenue account "
                f"for {ms(revenue, 1)} ms (from the wallet accounts' lock to COMMIT): bookings of "
                f"the same days pass the longer window one at a time, so at most "
                f"{1 / max(held, revenue):.0f}/s, whatever the number of workers"
            )
        if scaling_rows:
            print(
                f"\nCheckouts of one product and the same {len(dates)} days x {CHILDREN} children "
                "(different families), HTTP, as many client threads as workers:"
            )
            base = scaling_rows[0][2]
            print_table(
                ["workers", "timed checkouts", "checkouts/s", "vs 1 worker", "p50 / p95 ms"],
                [
                    [w, n, f"{rate:.1f}", f"{rate / base:.2f}x", f"{p50:.0f} / {p95:.0f}"]
                    for w, n, rate, p50, p95 in scaling_rows
                ],
            )
        print(f"\nTotal run time: {time.perf_counter() - started_run:.0f} s")
    finally:
        try:
            if server is not None:
                stop_server(server)
            shutil.rmtree(shim_dir, ignore_errors=True)
        finally:
            connection.set_schema_to_public()
            drop_bench_families()
            drop_bench_communes(SLUG)


if __name__ == "__main__":
    main()
