"""Shared set-up for the benchmarks: a dedicated database, Django, timing and table helpers.

The benchmarks never touch the demo (`marelle`) or test (`test_marelle`) databases: they run on
the embedded PostgreSQL, in their own database `marelle_bench`, which is dropped and recreated
at the start of each run by default (about 2 s), so a migration edited in place can never leave
a stale template schema behind. `--reuse-db` keeps it between runs instead.
"""

from __future__ import annotations

import logging
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DB_NAME = "marelle_bench"


def add_db_arguments(parser) -> None:
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help=f"keep the {BENCH_DB_NAME} database from the previous run instead of recreating it",
    )


def setup_django(*, reuse_db: bool = False) -> None:
    """Point Django at the dedicated benchmark database, migrate it, and set Django up."""
    url = os.environ.get("DATABASE_URL")
    if url and not bench_url_allowed(url):
        sys.exit(
            "The benchmarks run on the embedded PostgreSQL, in their own database "
            f"({BENCH_DB_NAME}), or on a DATABASE_URL whose database name contains 'bench' "
            "(it is dropped and recreated); unset DATABASE_URL or point it at such a database."
        )
    os.environ["MARELLE_ENV"] = "demo"
    os.environ["MARELLE_DB_NAME"] = BENCH_DB_NAME
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if not reuse_db:
        if url:
            _recreate_url_database(url)
        else:
            _drop_bench_database()

    import django

    django.setup()  # settings create the database on the embedded server if it is missing
    # The families' set-up runs e-mail tasks eagerly: one INFO line each would bury the figures.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)

    from django.core.management import call_command

    call_command("migrate_platform", verbosity=0)


def bench_url_allowed(url: str) -> bool:
    """An explicit DATABASE_URL is used only for a database named for benchmarks."""
    from urllib.parse import urlparse

    return "bench" in urlparse(url).path.lstrip("/")


def _recreate_url_database(url: str) -> None:
    """Drop and recreate the DATABASE_URL's database (its name contains 'bench')."""
    from urllib.parse import urlparse

    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    assert "bench" in name  # never anything else
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_bench_database() -> None:
    import psycopg
    from psycopg import sql

    from config import embedded_db

    assert BENCH_DB_NAME.startswith("marelle_bench")  # never anything else
    socket_dir, _ = embedded_db.ensure_running()
    with psycopg.connect(
        host=socket_dir, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB_NAME))
        )


def drop_bench_communes(slug_prefix: str) -> int:
    """Delete the communes (rows and schemas) a previous run left behind; return how many."""
    from django.db import connection

    from shared_apps.audit.models import AuditEntry
    from tenants.models import Commune
    from tenants.services import schema_name_for

    assert slug_prefix.startswith("bench-")
    connection.set_schema_to_public()
    # The benchmark's own audit trail (its families' enrolments) protects its communes' rows.
    AuditEntry.objects.filter(commune__slug__startswith=slug_prefix).delete()
    removed = 0
    for commune in Commune.objects.filter(slug__startswith=slug_prefix):
        commune.delete(force_drop=True)
        removed += 1
    # A schema without its row (a run killed between the two) would block the next create.
    schema_prefix = schema_name_for(slug_prefix)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [schema_prefix]
        )
        for (schema,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
            removed += 1
    return removed


def machine_summary() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    import django

    where = "DATABASE_URL, TCP" if os.environ.get("DATABASE_URL") else "embedded, Unix socket"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"PostgreSQL {pg_version} ({where}), database {connection.settings_dict['NAME']}"
    )


def describe(samples: Sequence[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "mean": statistics.fmean(samples),
    }


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        first, *rest = row
        parts = [first.ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def drop_families(*, email_prefix: str, commune_slug: str) -> int:
    """Delete the public rows of a benchmark's families — users whose e-mail starts with
    `email_prefix`, their families, wallets and ledger, and the ledger rows of commune
    `commune_slug` (they protect the commune from deletion). Returns how many users were removed."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from shared_apps.families.models import Family, Guardian
    from shared_apps.wallet.models import Account, LedgerTransaction, Posting, Wallet

    users = get_user_model().objects.filter(email__startswith=email_prefix)
    family_ids = list(Guardian.objects.filter(user__in=users).values_list("family_id", flat=True))
    wallets = Wallet.objects.filter(family_id__in=family_ids)
    transactions = LedgerTransaction.objects.filter(
        Q(wallet__in=wallets) | Q(commune__slug=commune_slug)
    )
    accounts = Account.objects.filter(Q(wallet__in=wallets) | Q(commune__slug=commune_slug))
    Posting.objects.filter(Q(transaction__in=transactions) | Q(account__in=accounts)).delete()
    transactions.delete()
    accounts.delete()
    # The shared card-clearing account took the other side of the top-ups: drop it when empty.
    Account.objects.filter(wallet=None, commune=None, postings=None).delete()
    wallets.delete()
    Family.objects.filter(pk__in=family_ids).delete()
    removed, _ = users.delete()  # with their tokens
    return removed


def canteen_product(service, *, price_cents: int, **extra):
    """The canteen meal every booking benchmark books (Mon, Tue, Thu, Fri on school days;
    booking and cancelling until two working days before, noon; a late cancellation keeps
    everything), created in the current schema; `extra` sets other fields (daily_capacity)."""
    import datetime

    from tenant_apps.catalog.models import DeadlineKind, OpeningPeriod, Product

    return Product.objects.create(
        service=service,
        name="Réservation repas cantine",
        price_cents=price_cents,
        weekdays=[0, 1, 3, 4],
        opening_period=OpeningPeriod.SCHOOL_DAYS,
        booking_deadline_kind=DeadlineKind.WORKING_DAYS_BEFORE,
        booking_deadline_days=2,
        booking_deadline_time=datetime.time(12, 0),
        cancel_deadline_kind=DeadlineKind.WORKING_DAYS_BEFORE,
        cancel_deadline_days=2,
        cancel_deadline_time=datetime.time(12, 0),
        late_cancellation_refund_percent=0,
        **extra,
    )
