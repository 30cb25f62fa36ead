"""A thousand communes on one server: creation time as they accumulate, migrating them all, and
the memory of a web worker that has served every one.

Phases (each figure printed with the machine's load average at that moment):

1. **Creation vs number of communes.** The platform is filled with communes through
   `tenants.services.create_commune` (the replay builder, tenants.schema_factory), every
   creation timed. At each `--levels` point (default 1, 100, 500, 1000 communes), `--samples`
   more creations are timed with each builder on a freshly opened connection: `replay` (kept,
   they count towards the next level) and `clone` (django-tenants' clone_schema, the previous
   default: `COMMUNE_SCHEMA_BUILDER="django-tenants"`; dropped after timing). A clone that
   takes longer than `--clone-limit` seconds stops the clone samples at higher levels.
2. **No-op migration** at the last level, in a fresh process as an operator runs it: the
   previous `migrate_platform` (django-tenants' `migrate_schemas --tenant`, standard executor,
   every schema) against the current one (one query finds the schemas that are behind).
3. **A real migration across all communes** (`--real-migration`): a throw-away tenant app is
   added through a settings shim written to a temporary directory (nothing in the source tree
   changes): its 0001 creates a table, then its 0002 adds one column; `migrate_platform` is timed
   for each, in a fresh process, then one more creation (the captured SQL is regenerated).
4. **Web worker memory** (`--rss`): a fresh process renders one commune page
   (`GET /c/<slug>/`, Django test client, the whole middleware stack) per commune, and reports
   its RSS and its PostgreSQL backend's memory before and after.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale_bench \\
        .venv/bin/python benchmarks/scale.py --communes 1000 --real-migration --rss

Needs a database whose name contains "bench" (dropped and recreated; dropped again at the end
unless `--keep`), or the embedded server's marelle_bench.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _common import ROOT, add_db_arguments, machine_summary, print_table, setup_django

SLUG_PREFIX = "bench-scale-"


def load() -> str:
    """The 1, 5 and 15 minute load averages (`uptime`), as one string."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def fresh_connection() -> None:
    from django.db import connection

    connection.set_schema_to_public()
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def backend_cpu_seconds() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend, when the server runs on
    this machine (read from /proc); None otherwise."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def create_timed(
    slug: str, builder: str = "replay", cpu: dict | None = None
) -> tuple[float, object]:
    """Seconds to open one commune with `builder` ('replay' or 'clone'), and the commune.

    With `cpu`, also the CPU seconds the creation cost, this process's plus its PostgreSQL
    backend's (`cpu["client"]`, `cpu["server"]`): what it would take on an idle machine,
    whatever the load, fsync waits aside."""
    from django.db import connection
    from django.test import override_settings

    from tenants.services import create_commune

    spec = {"slug": slug, "name": f"Bench {slug}", "insee_code": "01001"}
    chosen = "replay" if builder == "replay" else "django-tenants"
    server_before = backend_cpu_seconds() if cpu is not None else None
    with override_settings(COMMUNE_SCHEMA_BUILDER=chosen, TENANT_CREATION_FAKES_MIGRATIONS=True):
        client_before = time.process_time()
        started = time.perf_counter()
        commune = create_commune(**spec)
        elapsed = time.perf_counter() - started
        client = time.process_time() - client_before
    connection.set_schema_to_public()
    if cpu is not None:
        server_after = backend_cpu_seconds()
        cpu["client"] = client
        if server_before is not None and server_after is not None:
            cpu["server"] = server_after - server_before
    return elapsed, commune


def commune_count() -> int:
    from tenants.models import Commune

    return Commune.objects.count()


def fill_to(target: int, timings: list[tuple[int, float]]) -> None:
    """Create replay communes until `target` exist; each creation's (rank, seconds) recorded."""
    count = commune_count()
    while count < target:
        elapsed, _ = create_timed(f"{SLUG_PREFIX}{count + 1:05d}")
        count += 1
        timings.append((count, elapsed))


def sample_level(level: int, samples: int, clone: bool) -> dict:
    """At `level` communes: time `samples` creations per builder on fresh connections."""

    result: dict = {
        "level": level,
        "load": load(),
        "replay": [],
        "clone": [],
        "replay_cpu": [],
        "clone_cpu": [],
    }
    for index in range(samples):
        fresh_connection()
        cpu: dict = {}
        elapsed, _ = create_timed(f"{SLUG_PREFIX}{commune_count() + 1:05d}", cpu=cpu)
        result["replay"].append(elapsed)
        result["replay_cpu"].append(cpu)
        if clone:
            fresh_connection()
            slug = f"{SLUG_PREFIX}clone-{level}-{index}"
            cpu = {}
            elapsed, commune = create_timed(slug, "clone", cpu=cpu)
            result["clone"].append(elapsed)
            result["clone_cpu"].append(cpu)
            commune.delete(force_drop=True)
    result["load_after"] = load()
    return result


def manage(args: list[str], env: dict | None = None) -> float:
    """Run `manage.py <args>` in a fresh process; its wall-clock seconds (fails loudly)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        print(completed.stdout[-3000:], completed.stderr[-3000:])
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return elapsed


THROWAWAY_APP = "scalebench_app"
MIGRATION_0001 = """
from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("text", models.CharField(max_length=100)),
            ],
        ),
    ]
"""
MIGRATION_0002 = """
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [("scalebench_app", "0001_initial")]
    operations = [
        migrations.AddField("note", "flag", models.BooleanField(default=False)),
    ]
"""
SETTINGS_SHIM = """
from config.settings import *  # noqa: F403

TENANT_APPS = [*TENANT_APPS, "scalebench_app"]  # noqa: F405
INSTALLED_APPS = [*INSTALLED_APPS, "scalebench_app"]  # noqa: F405
"""


def real_migration() -> dict:
    """A throw-away tenant app: 0001 (a table), then 0002 (one column), each applied to every
    commune by migrate_platform in a fresh process; then one creation with the new graph."""
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="marelle-scale-") as tmp:
        app = Path(tmp) / THROWAWAY_APP
        (app / "migrations").mkdir(parents=True)
        (app / "__init__.py").write_text("")
        (app / "migrations" / "__init__.py").write_text("")
        (app / "migrations" / "0001_initial.py").write_text(MIGRATION_0001)
        (Path(tmp) / "scalebench_settings.py").write_text(SETTINGS_SHIM)
        env = {
            "PYTHONPATH": os.pathsep.join([tmp, str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "scalebench_settings",
        }
        result["create_table"] = (manage(["migrate_platform", "-v", "0"], env), load())
        (app / "migrations" / "0002_note_flag.py").write_text(MIGRATION_0002)
        result["add_column"] = (manage(["migrate_platform", "-v", "0"], env), load())
        result["noop_after"] = (manage(["migrate_platform", "-v", "0"], env), load())
        # One creation under the new graph: captures the SQL again, then a second one replays.
        probe = textwrap.dedent(
            f"""
            import time, django
            django.setup()
            from tenants.services import create_commune
            from tenants.models import Commune
            out = []
            for tag in ("a", "b"):
                n = Commune.objects.count() + 1
                t = time.perf_counter()
                create_commune(slug=f"{SLUG_PREFIX}after-{{tag}}", name="After", insee_code="01001")
                out.append(time.perf_counter() - t)
            from django.db import connection
            with connection.cursor() as c:
                c.execute("SELECT count(*) FROM c_bench_scale_after_b.scalebench_app_note")
            print(out[0], out[1])
            """
        )
        completed = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            print(completed.stderr[-3000:])
            raise SystemExit("creation after the migration failed")
        first, second = (float(x) for x in completed.stdout.split())
        result["creation_after"] = (first, second, load())
    return result


RSS_WORKER = """
import json, os, sys, time, django, psutil
django.setup()
from django.db import connection
from django.test import Client
from tenants.models import Commune

def backend_bytes():
    with connection.cursor() as c:
        c.execute("SELECT sum(total_bytes) FROM pg_backend_memory_contexts")
        return int(c.fetchone()[0])

process = psutil.Process()
slugs = list(Commune.objects.filter(slug__startswith=sys.argv[1]).order_by("slug")
             .values_list("slug", flat=True))
client = Client()
client.get("/healthz")
points = []
marks = {1, 10, 100, 500, len(slugs)}
points.append((0, process.memory_info().rss, backend_bytes(), 0.0))
started = time.perf_counter()
for index, slug in enumerate(slugs, 1):
    response = client.get(f"/c/{slug}/")
    assert response.status_code == 200, (slug, response.status_code)
    if index in marks:
        connection.set_schema_to_public()
        points.append((index, process.memory_info().rss, backend_bytes(),
                       time.perf_counter() - started))
print(json.dumps(points))
"""


def worker_memory(env: dict | None = None) -> list:
    from django.conf import settings
    from django.core.management import call_command

    # Pages use {% static %}, which needs collectstatic's manifest outside DEBUG (as `make demo`).
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    completed = subprocess.run(
        [sys.executable, "-c", RSS_WORKER, SLUG_PREFIX],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        print(completed.stderr[-3000:])
        raise SystemExit("the memory probe failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def schema_size_bytes() -> int:
    """The on-disk size of one (empty) commune schema: its tables, indexes and TOAST."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
            [f"c_{SLUG_PREFIX.replace('-', '_')}00001"],
        )
        return int(cursor.fetchone()[0] or 0)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communes", type=int, default=1000)
    parser.add_argument("--levels", default="1,100,500,1000", help="sample at these counts")
    parser.add_argument("--samples", type=int, default=3, help="timed creations per builder")
    parser.add_argument("--clone-limit", type=float, default=30.0, help="stop cloning past (s)")
    parser.add_argument("--no-clone", action="store_true", help="time the replay builder only")
    parser.add_argument("--noop-before", action="store_true", help="also time the old no-op")
    parser.add_argument("--real-migration", action="store_true")
    parser.add_argument("--rss", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--json", help="write the figures to this file")
    add_db_arguments(parser)
    args = parser.parse_args(argv)
    levels = sorted({int(x) for x in args.levels.split(",") if int(x) <= args.communes})

    setup_django(reuse_db=args.reuse_db)
    from django.db import connection

    print(f"Machine: {machine_summary()}; load {load()}")
    results: dict = {"machine": machine_summary(), "levels": [], "fill": []}
    clone = not args.no_clone
    fill: list[tuple[int, float]] = []
    try:
        for level in levels:
            started = time.perf_counter()
            fill_to(level - 1 if level > 1 else 0, fill)
            if level > 1:
                print(f"  filled to {commune_count()} in {time.perf_counter() - started:.0f} s")
            sample = sample_level(commune_count(), args.samples, clone)
            results["levels"].append(sample)
            slow = max(sample["clone"], default=0)
            line = f"{sample['level']:>5} communes  replay " + " ".join(
                f"{s * 1000:.0f}" for s in sample["replay"]
            )
            if sample["clone"]:
                line += "  clone " + " ".join(f"{s * 1000:.0f}" for s in sample["clone"])
            print(f"{line} ms  (load {sample['load']} → {sample['load_after']})", flush=True)
            for builder in ("replay", "clone"):
                for cpu in sample[f"{builder}_cpu"]:
                    print(
                        f"      {builder} CPU: "
                        + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in cpu.items())
                    )
            if slow > args.clone_limit:
                clone = False
        fill_to(args.communes, fill)
        results["fill"] = fill
        total = commune_count()
        print(f"{total} communes; one empty commune schema: {schema_size_bytes() / 1024:.0f} KiB")
        results["schema_bytes"] = schema_size_bytes()
        connection.close()
        if args.noop_before:
            before = manage(["migrate_schemas", "--tenant", "-v", "0"])
            results["noop_before"] = (before, load())
            print(f"no-op migrate_schemas --tenant (previous way): {before:.1f} s (load {load()})")
        after = manage(["migrate_platform", "-v", "0"])
        results["noop_after"] = (after, load())
        print(f"no-op migrate_platform: {after:.1f} s (load {load()})", flush=True)
        if args.rss:
            results["rss"] = worker_memory()
            for count, rss, backend, seconds in results["rss"]:
                print(
                    f"  after {count:>5} commune pages: RSS {rss / 2**20:.0f} MiB, "
                    f"PostgreSQL backend {backend / 2**20:.1f} MiB ({seconds:.1f} s)"
                )
        if args.real_migration:
            results["real_migration"] = real_migration()
            print(f"real migration: {results['real_migration']}")
    finally:
        results["fill"] = fill
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
        if not args.keep:
            connection.close()
            drop_database()

    rows = []
    for sample in results["levels"]:
        rows.append(
            [
                sample["level"],
                f"{statistics.median(sample['replay']) * 1000:.0f}",
                f"{statistics.median(sample['clone']) * 1000:.0f}" if sample["clone"] else "-",
                sample["load"],
            ]
        )
    print()
    print_table(["communes", "replay median ms", "clone median ms", "load"], rows)
    buckets: dict[int, list[float]] = {}
    for rank, seconds in fill:
        buckets.setdefault((rank - 1) // 100, []).append(seconds)
    print()
    print_table(
        ["creations", "median ms", "max ms"],
        [
            [
                f"{b * 100 + 1}-{b * 100 + len(v)}",
                f"{statistics.median(v) * 1000:.0f}",
                f"{max(v) * 1000:.0f}",
            ]
            for b, v in sorted(buckets.items())
        ],
    )
    return results


def drop_database() -> None:
    """Drop the bench database (DATABASE_URL's, whose name contains 'bench'), or marelle_bench."""
    from _common import _drop_bench_database, bench_url_allowed

    url = os.environ.get("DATABASE_URL")
    if not url:
        _drop_bench_database()
        return
    from urllib.parse import urlparse

    import psycopg
    from psycopg import sql

    assert bench_url_allowed(url)
    parsed = urlparse(url)
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(parsed.path.lstrip("/"))
            )
        )


if __name__ == "__main__":
    main()
