"""Creating a commune by replaying the migrations' captured SQL (tenants.schema_factory)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from tenants import schema_factory
from tenants.models import Commune
from tenants.services import CommuneAlreadyExists, create_commune
from tests.parallel import run_in_parallel

ROOT = Path(__file__).resolve().parents[2]


def _migrated_reference(schema: str) -> None:
    """A schema built the canonical way: empty, then every migration through django-tenants."""
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def _stored_keys() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT graph_key FROM public.{schema_factory.BLUEPRINT_TABLE}")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def fresh_process_cache():
    """Forget the process's captured SQL and graph key before and after the test."""
    schema_factory.forget_process_cache()
    yield
    schema_factory.forget_process_cache()


@pytest.mark.django_db
def test_a_created_commune_is_the_migrated_schema_structure_and_names():
    commune = create_commune(slug="rejouee", name="Rejouée", insee_code="01001")
    _migrated_reference("c_reference_migree")

    built = schema_factory.schema_signature(commune.schema_name)
    migrated = schema_factory.schema_signature("c_reference_migree")

    for part in ("columns", "constraints", "indexes", "relations", "migrations"):
        assert built[part] == migrated[part], part
    names = {name for _, name, _, _ in built["constraints"]}
    # The model's own names (django-tenants' clone renamed these to *_key).
    assert {"unique_service_name", "one_enrollment_per_child"} <= names
    assert len(built["migrations"]) > 40


@pytest.mark.django_db
def test_the_clone_builder_keeps_the_names_too():
    with override_settings(COMMUNE_SCHEMA_BUILDER="django-tenants"):
        cloned = create_commune(slug="clonee", name="Clonée", insee_code="01001")
    replayed = create_commune(slug="rejouee", name="Rejouée", insee_code="01001")

    assert (
        schema_factory.schema_signature(cloned.schema_name)["constraints"]
        == (schema_factory.schema_signature(replayed.schema_name)["constraints"])
    )


@pytest.mark.django_db
def test_a_creation_after_a_new_migration_captures_the_sql_again(
    tmp_path, monkeypatch, fresh_process_cache
):
    before_key = schema_factory.migration_graph_key()
    create_commune(slug="avant", name="Avant", insee_code="01001")
    # A new catalog migration, as a deployment brings one: the app's migrations plus one more,
    # in a package of their own (nothing in the source tree changes).
    package = tmp_path / "scale_catalog_migrations"
    shutil.copytree(ROOT / "tenant_apps" / "catalog" / "migrations", package)
    latest = max(p.stem for p in package.glob("0*.py"))
    (package / "0099_scale_probe.py").write_text(
        "from django.db import migrations, models\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('catalog', '{latest}')]\n"
        "    operations = [migrations.AddField('closure', 'scale_probe',"
        " models.IntegerField(default=7))]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    captures = []
    capture = schema_factory.capture_statements
    monkeypatch.setattr(
        schema_factory, "capture_statements", lambda: captures.append(1) or capture()
    )

    with override_settings(MIGRATION_MODULES={"catalog": "scale_catalog_migrations"}):
        schema_factory.forget_process_cache()
        after_key = schema_factory.migration_graph_key()
        first = create_commune(slug="apres", name="Après", insee_code="01001")
        second = create_commune(slug="apres-deux", name="Après deux", insee_code="01001")

    assert after_key != before_key
    assert captures == [1]  # captured once for the new graph, then replayed
    assert {before_key, after_key} <= _stored_keys()
    for commune in (first, second):
        columns = schema_factory.schema_signature(commune.schema_name)["columns"]
        assert ("catalog_closure", "scale_probe", "integer", "NO", "") in columns
    old = schema_factory.schema_signature("c_avant")["columns"]
    assert not any(column == "scale_probe" for _, column, *_ in old)
    sys.modules.pop("scale_catalog_migrations", None)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_capture_once_and_build_whole_schemas(fresh_process_cache):
    key = schema_factory.migration_graph_key()
    with connection.cursor() as cursor:  # every creation must find the SQL missing
        cursor.execute(
            f"DELETE FROM public.{schema_factory.BLUEPRINT_TABLE} WHERE graph_key = %s", [key]
        )
    captures = []
    capture = schema_factory.capture_statements
    schema_factory.capture_statements = lambda: captures.append(1) or capture()
    slugs = ["parallele-un", "parallele-deux", "parallele-deux"]
    try:
        results = run_in_parallel(
            [
                lambda slug=slug: create_commune(slug=slug, name=slug, insee_code="01001")
                for slug in slugs
            ]
        )
        created = [r for r in results if isinstance(r, Commune)]
        refused = [r for r in results if isinstance(r, Exception)]
        assert sorted(c.slug for c in created) == ["parallele-deux", "parallele-un"]
        assert len(refused) == 1 and isinstance(refused[0], CommuneAlreadyExists), refused
        assert captures == [1]
        assert key in _stored_keys()
        one, two = (schema_factory.schema_signature(c.schema_name) for c in created)
        assert one == two
        template = schema_factory.schema_signature(settings.TENANT_BASE_SCHEMA)
        assert one["constraints"] == template["constraints"]
    finally:
        schema_factory.capture_statements = capture
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            for schema in ("c_parallele_un", "c_parallele_deux"):
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        Commune.objects.filter(slug__startswith="parallele-").delete()
