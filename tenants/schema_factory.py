"""Building a commune's schema fast: the migrations' SQL, captured once, replayed per commune.

django-tenants' `clone_schema` copies the template schema by reading the catalog, and its
queries slow down with every schema on the database (0.3 s on an empty platform, 8 s at ~110
communes, see benchmarks/README.md); it also renames unique constraints. Instead:

1. **Capture** (once per migration graph, lazily): a scratch schema is migrated for real with
   `migrate_schemas`, and every statement that changes it is recorded through a Django execute
   wrapper (DDL, the migrations' own data statements, the `django_migrations` rows), parameters
   bound. Nothing is parsed or rewritten: Django's statements name tables without a schema and
   run on the connection's search_path, so the same text builds the same schema anywhere. The
   statements that write to public-only tables (content types and permissions that a
   `post_migrate` handler may add) and everything else (introspection, SET) are left out.
   The result is stored in `public.marelle_schema_blueprint`, keyed by a hash of the migration
   graph's leaf nodes, so every process and server shares it, and a deployment that adds a
   migration gets a new key: the next creation captures again. Concurrent captures are
   serialised by a PostgreSQL advisory lock held on a side connection, and the second one finds
   the first one's row.
2. **Replay** (each creation, inside the caller's transaction): `CREATE SCHEMA`, then the
   captured statements in one round trip with the search_path on the new schema. Its cost
   depends on the size of the tenant schema, not on how many schemas the database holds, and
   the names (constraints, indexes, sequences) are the ones a migrated schema has, because they
   are the same statements.

The store is a plain table created on first use (not a model) so that it needs no migration of
its own and survives test-database flushes; its rows are a cache: deleting them is always safe.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader

BLUEPRINT_TABLE = "marelle_schema_blueprint"
SCRATCH_SCHEMA = "marelle_blueprint_scratch"
# pg_advisory_lock key for captures: any constant bigint, unique to this use in the project.
CAPTURE_LOCK_KEY = 7_314_250_014

_WRITE_RE = re.compile(r"^\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE|COMMENT|TRUNCATE)\b", re.I)
_DML_TABLE_RE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)

_memo: dict[str, str] = {}
_memo_lock = threading.Lock()
_graph_key: str | None = None


def migration_graph_key() -> str:
    """A short hash of the migration graph's leaf nodes (all apps), computed once per process.

    Tenant schemas record every app's migrations in their django_migrations table, so any new
    migration (a new leaf) changes the key and invalidates the captured SQL."""
    global _graph_key
    if _graph_key is None:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        leaves = sorted(loader.graph.leaf_nodes())
        _graph_key = hashlib.sha256(repr(leaves).encode()).hexdigest()[:24]
    return _graph_key


def forget_process_cache() -> None:
    """Drop this process's copy of the captured SQL and graph key (tests, after a deploy)."""
    global _graph_key
    with _memo_lock:
        _memo.clear()
        _graph_key = None


def _public_only_tables() -> set[str]:
    tenant_labels = {name.rsplit(".", 1)[-1] for name in settings.TENANT_APPS}
    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label not in tenant_labels
    }


def _ensure_store(cursor: Any) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS public.{BLUEPRINT_TABLE} ("
        " graph_key text PRIMARY KEY, statements text NOT NULL, statement_count integer NOT NULL,"
        " captured_at timestamptz NOT NULL DEFAULT now())"
    )


def _stored(key: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"public.{BLUEPRINT_TABLE}"])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(
            f"SELECT statements FROM public.{BLUEPRINT_TABLE} WHERE graph_key = %s", [key]
        )
        row = cursor.fetchone()
    return row[0] if row else None


@contextmanager
def _capture_lock() -> Iterator[None]:
    """A session advisory lock on a side connection: the capture's own connection is closed
    and reopened by migrate_schemas, which would release a lock held on it."""
    side = connections.create_connection("default")
    try:
        with side.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [CAPTURE_LOCK_KEY])
        yield
    finally:
        try:
            with side.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [CAPTURE_LOCK_KEY])
        finally:
            side.close()


class _Recorder:
    """A Django execute wrapper that keeps the statements writing to the schema being built,
    parameters bound (introspection, SET and writes to public-only tables left out)."""

    def __init__(self, scratch: str) -> None:
        self.scratch = scratch
        self.public_only = _public_only_tables()
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        text = sql if isinstance(sql, str) else sql.decode()
        if _WRITE_RE.match(text) and self.scratch not in text:
            dml = _DML_TABLE_RE.match(text)
            if not (dml and dml.group(1) in self.public_only):
                # Bound before running: mogrify after execute would drop the cursor's result.
                cursor = context["cursor"]
                for one in params if many else [params]:
                    bound = cursor.mogrify(text, one) if one else text
                    bound = bound.decode() if isinstance(bound, bytes) else bound
                    self.statements.append(bound.strip().rstrip(";"))
        return execute(sql, params, many, context)


def _recreate(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cursor.execute(f'CREATE SCHEMA "{schema}"')


def _drop(schema: str) -> None:
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _history_statements() -> list[str]:
    """Migrate SCRATCH_SCHEMA from nothing; the statements that built it (left in place)."""
    recorder = _Recorder(SCRATCH_SCHEMA)
    _recreate(SCRATCH_SCHEMA)
    try:
        with connection.execute_wrapper(recorder):
            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=SCRATCH_SCHEMA,
                interactive=False,
                verbosity=0,
            )
    finally:
        connection.set_schema_to_public()  # type: ignore[attr-defined]
    return recorder.statements


def _has_rows(schema: str) -> bool:
    """Whether any table of `schema` but django_migrations holds rows (a data migration)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname <> 'django_migrations'",
            [schema],
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{schema}"."{table}")')
            if cursor.fetchone()[0]:
                return True
    return False


def _final_state_statements(history: list[str]) -> list[str] | None:
    """The same schema built from the final model states (one CREATE TABLE per table, no
    history of ALTERs), if it is exactly the migrated one: same columns, constraint and index
    names and definitions (compared from the catalog with SCRATCH_SCHEMA), and the migrations
    left no rows behind. None otherwise: the history is then replayed as it is."""
    if _has_rows(SCRATCH_SCHEMA):
        return None
    tenant_labels = {name.rsplit(".", 1)[-1] for name in settings.TENANT_APPS}
    state = MigrationLoader(None, ignore_no_migrations=True).project_state()
    models = [
        model
        for model in state.apps.get_models()
        if model._meta.app_label in tenant_labels and model._meta.managed and not model._meta.proxy
    ]
    final_schema = SCRATCH_SCHEMA + "_final"
    recorder = _Recorder(final_schema)
    _recreate(final_schema)
    try:
        connection.set_schema(final_schema)  # type: ignore[attr-defined]
        with connection.execute_wrapper(recorder), connection.schema_editor() as editor:
            for model in models:
                editor.create_model(model)
            for statement in history:
                if 'django_migrations"' in statement.split("(", 1)[0]:
                    editor.execute(statement, None)
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        same = schema_signature(final_schema) == schema_signature(SCRATCH_SCHEMA)
    finally:
        _drop(final_schema)
    return recorder.statements if same else None


def capture_statements() -> list[str]:
    """Migrate a scratch schema from nothing and return the statements that build the same
    schema, with their parameters bound (one string each): the final tables' CREATE statements
    when they build exactly the migrated schema (checked), else the migrations' own history.

    The history's ALTER TABLEs cost more as the catalog grows (0.18 s for the whole replay
    on an empty database, 0.45 s at 1,000 communes); one CREATE TABLE per table does not.
    Callers hold the capture lock (two captures would share the scratch schemas)."""
    try:
        history = _history_statements()
        return _final_state_statements(history) or history
    finally:
        _drop(SCRATCH_SCHEMA)


def blueprint_sql() -> str:
    """The SQL that builds a commune schema at the current migrations (one string, statements
    separated by `;`), from this process's memory, else the shared store, else captured now
    (about the time of one migrated creation; once per migration graph for the whole platform).
    """
    key = migration_graph_key()
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    sql = _stored(key)
    if sql is None:
        with _capture_lock():
            sql = _stored(key)  # another process may have captured it while we waited
            if sql is None:
                statements = capture_statements()
                sql = ";\n".join(statements) + ";"
                with connection.cursor() as cursor:
                    _ensure_store(cursor)
                    cursor.execute(
                        f"INSERT INTO public.{BLUEPRINT_TABLE} "
                        "(graph_key, statements, statement_count) VALUES (%s, %s, %s) "
                        "ON CONFLICT (graph_key) DO NOTHING",
                        [key, sql, len(statements)],
                    )
                    # Older graphs' rows are of no further use once every process has moved on.
                    cursor.execute(
                        f"DELETE FROM public.{BLUEPRINT_TABLE} "
                        "WHERE graph_key <> %s AND captured_at < now() - interval '1 day'",
                        [key],
                    )
    with _memo_lock:
        _memo[key] = sql
    return sql


def build_schema(schema_name: str) -> None:
    """Create `schema_name` and everything a migrated commune schema holds, migration rows
    included, on the default connection and inside the caller's transaction (all or nothing).

    The caller checks that the schema does not exist and holds a name already validated
    (tenants.services.schema_name_for). Leaves the connection on the public schema."""
    sql = blueprint_sql()
    tenant_connection = connection
    with tenant_connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
    tenant_connection.set_schema(schema_name)  # type: ignore[attr-defined]
    try:
        with tenant_connection.cursor() as cursor:  # sets search_path = schema, public
            cursor.execute(sql)
    finally:
        tenant_connection.set_schema_to_public()  # type: ignore[attr-defined]


def schema_signature(schema: str) -> dict[str, frozenset[tuple[str, ...]]]:
    """What a schema is, read from the catalog, with the schema's own name taken out: its
    columns (type, nullability, default), constraints and indexes (name and definition),
    sequences, and migration rows. Two schemas with equal signatures are interchangeable."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name::text, column_name::text, data_type::text, is_nullable::text,
                   coalesce(replace(column_default, quote_ident(%s) || '.', ''), '')
              FROM information_schema.columns WHERE table_schema = %s
            """,
            [schema, schema],
        )
        columns = frozenset(cursor.fetchall())
        cursor.execute(
            """
            SELECT c.relname::text, co.conname::text, co.contype::text,
                   replace(pg_get_constraintdef(co.oid), quote_ident(%s) || '.', '')
              FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid
              JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = %s
            """,
            [schema, schema],
        )
        constraints = frozenset(cursor.fetchall())
        cursor.execute(
            """
            SELECT tablename::text, indexname::text,
                   replace(indexdef, quote_ident(%s) || '.', '')
              FROM pg_indexes WHERE schemaname = %s
            """,
            [schema, schema],
        )
        indexes = frozenset(cursor.fetchall())
        cursor.execute(
            """
            SELECT c.relkind::text, c.relname::text FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s
            """,
            [schema],
        )
        relations = frozenset(cursor.fetchall())
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        migrations = frozenset(cursor.fetchall())
    return {
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
        "relations": relations,
        "migrations": migrations,
    }
