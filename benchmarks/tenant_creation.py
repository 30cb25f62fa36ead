"""How long opening one commune takes: replaying the captured SQL, cloning the template schema,
running the migrations.

All three go through the same onboarding code, tenants.services.create_commune (validation,
row insert, schema creation, all in one transaction), and are timed end to end:

* replay  — the default (tenants.schema_factory): the migrations' SQL, captured once, replayed;
* clone   — COMMUNE_SCHEMA_BUILDER="django-tenants" (TENANT_CREATION_FAKES_MIGRATIONS=True):
            django-tenants copies the migrated `tenant_template` schema, then runs
            migrate_schemas --fake on the copy;
* migrate — the same with TENANT_CREATION_FAKES_MIGRATIONS=False: django-tenants creates an
            empty schema and runs migrate_schemas on it, as it would without a template.

Rounds alternate the order of the two methods (ABBA) so drift favours neither. Each creation
starts on a freshly opened database connection (opened before the clock starts): on a reused
connection every clone is slower than the one before (django-tenants replaces its 4,500-line
clone_schema function on each clone; `--reuse-connection` shows it). After the clock stops each
new schema is compared with the template (columns, constraint and index definitions, object names,
migration rows), then dropped, so every round starts from the same database. `--existing N` first
opens N other communes, to time creation on a platform that already has some.

    MARELLE_ENV=demo .venv/bin/python benchmarks/tenant_creation.py [--rounds 10] [--existing 0]
"""

from __future__ import annotations

import argparse
import itertools
import time

from _common import (
    add_db_arguments,
    describe,
    drop_bench_communes,
    machine_summary,
    print_table,
    setup_django,
)

SLUG_PREFIX = "bench-create-"
METHODS = ("replay", "clone", "migrate")


def schema_names(schema: str) -> frozenset[tuple[str, str]]:
    """The names of a schema's objects (tables, indexes, sequences, constraints), its migrations."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relkind::text, c.relname::text FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s
            UNION ALL
            SELECT 'constraint:' || co.contype::text, co.conname::text FROM pg_constraint co
              JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = %s
            """,
            [schema, schema],
        )
        objects = set(cursor.fetchall())
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        objects |= {("migration", f"{app}.{name}") for app, name in cursor.fetchall()}
    return frozenset(objects)


def schema_structure(schema: str) -> frozenset[tuple[str, ...]]:
    """What a schema enforces, whatever its objects are called: columns, constraint and index
    definitions (schema-qualified references made relative)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 'column', table_name::text, column_name::text || ' ' || data_type::text
                   || ' ' || is_nullable::text
              FROM information_schema.columns WHERE table_schema = %s
            UNION ALL
            SELECT 'constraint', c.relname::text, replace(
                     pg_get_constraintdef(co.oid), quote_ident(%s) || '.', '')
              FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid
              JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = %s
            UNION ALL
            SELECT 'index', tablename::text,
                   regexp_replace(indexdef, ' INDEX [^ ]+ ON [^ ]+ ', ' INDEX ON ')
              FROM pg_indexes WHERE schemaname = %s
            """,
            [schema, schema, schema, schema],
        )
        return frozenset(cursor.fetchall())


def fresh_connection(reuse: bool) -> None:
    """Start the next creation on a new database session (unless told to reuse the old one)."""
    from django.db import connection

    connection.set_schema_to_public()
    if not reuse:
        connection.close()
    with connection.cursor() as cursor:  # connects and sets the search_path before the clock
        cursor.execute("SELECT 1")


def renamed(objects: set[tuple[str, str]]) -> list[str]:
    """Distinct names (a unique constraint and its index share one)."""
    return sorted({name for _, name in objects})


def clone_breakdown(rounds: int, *, reuse_connection: bool) -> dict[str, list[float]]:
    """Where a clone's time goes: the steps django-tenants runs, timed one by one in one
    transaction, as create_commune runs them (its row insert and checks are left out)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_tenants.clone import CloneSchema

    from tenants.services import schema_name_for

    steps: dict[str, list[float]] = {
        "CREATE OR REPLACE FUNCTION clone_schema": [],
        "SELECT clone_schema(template, new, 'DATA')": [],
        "migrate_schemas --fake on the copy": [],
        "COMMIT": [],
    }
    for round_no in range(rounds):
        schema = schema_name_for(f"{SLUG_PREFIX}steps-{round_no}")
        fresh_connection(reuse_connection)
        marks = [time.perf_counter()]
        with transaction.atomic():
            CloneSchema()._create_clone_schema_function()
            marks.append(time.perf_counter())
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT clone_schema(%s, %s, 'DATA')", [settings.TENANT_BASE_SCHEMA, schema]
                )
            marks.append(time.perf_counter())
            call_command(
                "migrate_schemas",
                tenant=True,
                fake=True,
                schema_name=schema,
                interactive=False,
                verbosity=0,
            )
            marks.append(time.perf_counter())
        marks.append(time.perf_counter())
        connection.set_schema_to_public()
        for step, (begin, end) in zip(steps, itertools.pairwise(marks), strict=True):
            steps[step].append(end - begin)
    return steps


def create_and_time(method: str, slug: str) -> tuple[float, object]:
    from django.test import override_settings

    from tenants.services import create_commune

    spec = {"slug": slug, "name": f"Bench {slug}", "insee_code": "01001", "holiday_zone": "A"}
    overrides = {
        "replay": {"COMMUNE_SCHEMA_BUILDER": "replay"},
        "clone": {"COMMUNE_SCHEMA_BUILDER": "django-tenants"},
        "migrate": {
            "COMMUNE_SCHEMA_BUILDER": "django-tenants",
            "TENANT_CREATION_FAKES_MIGRATIONS": False,
        },
    }[method]
    with override_settings(**overrides):
        started = time.perf_counter()
        commune = create_commune(**spec)
        elapsed = time.perf_counter() - started
    return elapsed, commune


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed communes per method")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument(
        "--existing", type=int, default=0, help="other communes to open before timing (default 0)"
    )
    parser.add_argument(
        "--reuse-connection",
        action="store_true",
        help="keep one database connection for every creation instead of a fresh one each",
    )
    add_db_arguments(parser)
    args = parser.parse_args()

    setup_django(reuse_db=args.reuse_db)
    from django.conf import settings
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from tenants.models import Commune
    from tenants.services import create_commune

    left = drop_bench_communes(SLUG_PREFIX)
    if left:
        print(f"(removed {left} commune(s)/schema(s) left by an earlier run)")

    template = settings.TENANT_BASE_SCHEMA
    reference_names = schema_names(template)
    reference_structure = schema_structure(template)
    tenant_labels = {app.rsplit(".", 1)[-1] for app in settings.TENANT_APPS}
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    tenant_migrations = sum(1 for app, _ in loader.disk_migrations if app in tenant_labels)
    tables = sum(1 for kind, _ in reference_names if kind in ("r", "p"))
    migration_rows = sum(1 for kind, _ in reference_names if kind == "migration")

    print(f"Machine: {machine_summary()}")
    print(
        f"Template schema {template!r}: {tables} tables, {len(reference_names)} named objects "
        f"and migration rows ({migration_rows}); "
        f"{tenant_migrations} tenant-app migrations ({', '.join(sorted(tenant_labels))})"
    )
    connection_mode = "one reused connection" if args.reuse_connection else "a fresh connection"
    print(
        f"Rounds: {args.warmup} warm-up + {args.rounds} timed per method, ABBA order, "
        f"each on {connection_mode}"
    )

    samples: dict[str, list[float]] = {method: [] for method in METHODS}
    structure_ok = dict.fromkeys(METHODS, True)
    missing_names: dict[str, set] = {method: set() for method in METHODS}
    extra_names: dict[str, set] = {method: set() for method in METHODS}
    try:
        if args.existing:
            started = time.perf_counter()
            for index in range(args.existing):
                if index % 10 == 0:
                    fresh_connection(args.reuse_connection)
                create_commune(
                    slug=f"{SLUG_PREFIX}existing-{index}",
                    name=f"Existante {index}",
                    insee_code="01001",
                )
                connection.set_schema_to_public()
            print(
                f"Opened {args.existing} other communes first "
                f"({time.perf_counter() - started:.1f} s)"
            )
        print(f"Communes on the platform while timing: {Commune.objects.count()} + the new one\n")
        for round_no in range(args.warmup + args.rounds):
            warmup = round_no < args.warmup
            order = METHODS if round_no % 2 == 0 else METHODS[::-1]
            for method in order:
                slug = f"{SLUG_PREFIX}{method}-{round_no}"
                fresh_connection(args.reuse_connection)
                elapsed, commune = create_and_time(method, slug)
                connection.set_schema_to_public()
                # Checked after the clock stopped: both methods must build the same schema.
                if schema_structure(commune.schema_name) != reference_structure:
                    structure_ok[method] = False
                names = schema_names(commune.schema_name)
                missing_names[method] |= reference_names - names
                extra_names[method] |= names - reference_names
                commune.delete(force_drop=True)
                label = "warm-up" if warmup else f"round {round_no - args.warmup + 1}"
                print(f"  {label:>8}  {method:<7} {elapsed * 1000:8.1f} ms")
                if not warmup:
                    samples[method].append(elapsed)
        steps = clone_breakdown(args.rounds, reuse_connection=args.reuse_connection)
    finally:
        connection.set_schema_to_public()
        drop_bench_communes(SLUG_PREFIX)

    stats = {method: describe(values) for method, values in samples.items()}
    print()
    print_table(
        ["method", "rounds", "median ms", "min ms", "max ms", "mean ms", "structure", "names"],
        [
            [
                method,
                len(samples[method]),
                f"{s['median'] * 1000:.1f}",
                f"{s['min'] * 1000:.1f}",
                f"{s['max'] * 1000:.1f}",
                f"{s['mean'] * 1000:.1f}",
                "= template" if structure_ok[method] else "DIFFERS",
                f"{len(renamed(missing_names[method]))} renamed"
                if missing_names[method]
                else "= template",
            ]
            for method, s in stats.items()
        ],
    )
    ratio_median = stats["migrate"]["median"] / stats["clone"]["median"]
    ratio_min = stats["migrate"]["min"] / stats["clone"]["min"]
    print(
        f"\nmigrate / clone: {ratio_median:.2f}x on the median, {ratio_min:.2f}x on the min "
        f"(cloning takes {100 / ratio_median:.0f}% of the time migrating takes)"
    )
    print(
        f"clone / replay: {stats['clone']['median'] / stats['replay']['median']:.2f}x on the "
        f"median (replay, the default, is tenants.schema_factory)"
    )
    print(
        "structure = columns, constraint and index definitions; "
        "names = object names and migration rows."
    )
    print("\nWhere a clone's time goes (its steps run one by one in a transaction):")
    print_table(
        ["step", "median ms", "min ms"],
        [
            [step, f"{describe(v)['median'] * 1000:.1f}", f"{describe(v)['min'] * 1000:.1f}"]
            for step, v in steps.items()
        ],
    )
    print()
    for method in METHODS:
        if not structure_ok[method]:
            print(f"WARNING: {method}: the schema does not enforce what the template does.")
        if missing_names[method] or extra_names[method]:
            print(
                f"NOTE: {method}: named differently from the template: "
                f"{', '.join(renamed(missing_names[method]))} became "
                f"{', '.join(renamed(extra_names[method]))}"
            )


if __name__ == "__main__":
    main()
