"""Migrate everything, fast when there is little to do: the public schema, the template, the
communes that are behind (found with one query across all schemas, migrated by a bounded pool
of processes), then capture the SQL new communes are built from (tenants.schema_factory)."""

from __future__ import annotations

import multiprocessing
import os
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState

from tenants import schema_factory
from tenants.models import Commune
from tenants.services import ensure_template_schema, restore_constraint_names


def expected_migrations() -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """Every migration a tenant schema records (django-tenants records all apps' migrations in
    each schema), with the ones it replaces when it is a squash."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {key: tuple(migration.replaces or ()) for key, migration in loader.graph.nodes.items()}


def applied_by_schema(schemas: list[str]) -> dict[str, set[tuple[str, str]]]:
    """Each schema's applied migrations, in two round trips whatever the number of schemas:
    which schemas have a django_migrations table (catalog), then one UNION ALL over them.
    A schema without the table is missing from the answer."""
    if not schemas:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'django_migrations' AND c.relkind = 'r' "
            "AND n.nspname = ANY(%s)",
            [schemas],
        )
        present = [row[0] for row in cursor.fetchall()]
        if not present:
            return {}
        union = " UNION ALL ".join(
            f'SELECT %s, app, name FROM "{schema}".django_migrations' for schema in present
        )
        cursor.execute(union, present)
        applied: dict[str, set[tuple[str, str]]] = {schema: set() for schema in present}
        for schema, app, name in cursor.fetchall():
            applied[schema].add((app, name))
    return applied


def is_behind(
    applied: set[tuple[str, str]] | None,
    expected: dict[tuple[str, str], tuple[tuple[str, str], ...]],
) -> bool:
    if applied is None:
        return True
    for key, replaces in expected.items():
        if key in applied:
            continue
        if replaces and all(old in applied for old in replaces):
            continue
        return True
    return False


def migrate_schema(schema: str) -> int:
    """Apply the migrations `schema` lacks, as django-tenants' migrate_schemas does (its router
    applies only the tenant apps' operations, every app's migration is recorded), without the
    migrate command's checks and post_migrate handlers: those write content types and
    permissions, which live in the public schema and are handled by its own migrate.
    Returns the number of migrations applied."""
    tenant_connection = connection
    # The recorder must find (or create) django_migrations in this schema, never public's.
    tenant_connection.set_schema(schema, include_public=False)  # type: ignore[attr-defined]
    MigrationRecorder(tenant_connection).ensure_schema()
    tenant_connection.set_schema(schema)  # type: ignore[attr-defined]
    try:
        executor = MigrationExecutor(tenant_connection)
        targets = executor.loader.graph.leaf_nodes()
        plan = executor.migration_plan(targets)
        if plan:
            executor.migrate(targets, plan=plan, state=_state_before(executor, plan).clone())
        return len(plan)
    finally:
        tenant_connection.set_schema_to_public()  # type: ignore[attr-defined]


# In each process: the project state (models rendered) before a plan, by the plan. Every
# schema behind by the same migrations starts from the same state: it is built and rendered
# once per process (the costly part of a migration run, a few hundred ms), then cloned.
_states_before: dict[tuple[tuple[str, str], ...], ProjectState] = {}


def _state_before(executor: MigrationExecutor, plan: list) -> ProjectState:
    key = tuple((migration.app_label, migration.name) for migration, _ in plan)
    if key not in _states_before:
        state = executor._create_project_state(with_applied_migrations=True)
        state.apps  # noqa: B018 -- render the models once, so clones reuse them
        _states_before[key] = state
    return _states_before[key]


def _migrate_one(schema: str) -> tuple[str, str | None]:
    """In a pool process: migrate one schema; the error's text rather than an exception."""
    try:
        migrate_schema(schema)
    except Exception as exc:  # reported by the parent, with every other failure
        return schema, f"{type(exc).__name__}: {exc}"
    return schema, None


def migrate_schemas_in_pool(schemas: list[str], jobs: int) -> list[tuple[str, str]]:
    """Migrate `schemas`, `jobs` processes at a time (forked: they inherit Django's set-up).
    Returns the failures as (schema, error)."""
    if not schemas:
        return []
    if jobs <= 1 or len(schemas) == 1:
        results = [_migrate_one(schema) for schema in schemas]
    else:
        connection.close()  # never share a connection with the children
        context = multiprocessing.get_context("fork")
        with context.Pool(processes=min(jobs, len(schemas)), maxtasksperchild=200) as pool:
            results = pool.map(_migrate_one, schemas, chunksize=4)
        connection.close()
    return [(schema, error) for schema, error in results if error]


def schemas_with_other_names(template: str, schemas: list[str]) -> list[str]:
    """Communes whose constraint/index names are not all the template's (cloned before the
    names were restored): one catalog query for all of them."""
    if not schemas:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.nspname, co.conname FROM pg_constraint co
              JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = ANY(%s)
            UNION ALL
            SELECT schemaname, indexname FROM pg_indexes WHERE schemaname = ANY(%s)
            """,
            [[template, *schemas], [template, *schemas]],
        )
        names: dict[str, set[str]] = {}
        for schema, name in cursor.fetchall():
            names.setdefault(schema, set()).add(name)
    wanted = names.get(template, set())
    return [schema for schema in schemas if names.get(schema, set()) != wanted]


class Command(BaseCommand):
    help = (
        "Migrate everything: the public schema, the commune template, every commune that is "
        "behind (in parallel), and capture the SQL new communes are built from."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--jobs",
            type=int,
            default=getattr(settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", None)
            or os.cpu_count()
            or 2,
            help="processes migrating communes at once (default: one per core)",
        )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        started = time.perf_counter()
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)

        template = settings.TENANT_BASE_SCHEMA
        communes = list(
            Commune.objects.order_by("schema_name").values_list("schema_name", flat=True)
        )
        expected = expected_migrations()
        applied = applied_by_schema([template, *communes])
        if is_behind(applied.get(template), expected):
            ensure_template_schema(verbosity=verbosity)
        behind = [schema for schema in communes if is_behind(applied.get(schema), expected)]
        if verbosity >= 1:
            self.stdout.write(
                f"{len(communes)} communes, {len(behind)} behind: migrating them "
                f"{options['jobs']} at a time."
            )
        pool_started = time.perf_counter()
        failures = migrate_schemas_in_pool(behind, options["jobs"])
        if verbosity >= 1 and behind:
            self.stdout.write(
                f"Migrated {len(behind)} communes in {time.perf_counter() - pool_started:.1f} s."
            )

        # Communes cloned before names were restored at creation get them now (idempotent).
        for schema in schemas_with_other_names(template, communes):
            restore_constraint_names(template, schema)
        connection.set_schema_to_public()
        schema_factory.blueprint_sql()  # so the first creation after a deploy does not capture
        if failures:
            raise CommandError(
                f"{len(failures)} commune(s) failed to migrate: "
                + "; ".join(f"{schema}: {error}" for schema, error in failures)
            )
        if verbosity >= 1:
            self.stdout.write(f"Done in {time.perf_counter() - started:.1f} s.")
