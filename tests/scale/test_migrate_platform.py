"""migrate_platform: one query finds the communes that are behind; only they are migrated,
by a pool of processes; a commune it migrates is the schema a created commune is."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from tenants import schema_factory
from tenants.management.commands import migrate_platform
from tenants.models import Commune


@pytest.mark.django_db
def test_one_query_reads_every_schemas_migrations_and_finds_the_one_behind(
    commune_a, commune_b, django_assert_max_num_queries
):
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{commune_b.schema_name}".django_migrations WHERE id = '
            f'(SELECT max(id) FROM "{commune_b.schema_name}".django_migrations)'
        )
    expected = migrate_platform.expected_migrations()

    with django_assert_max_num_queries(2):
        applied = migrate_platform.applied_by_schema(
            [commune_a.schema_name, commune_b.schema_name, "c_sans_schema"]
        )

    assert not migrate_platform.is_behind(applied[commune_a.schema_name], expected)
    assert migrate_platform.is_behind(applied[commune_b.schema_name], expected)
    assert migrate_platform.is_behind(applied.get("c_sans_schema"), expected)


@pytest.mark.django_db(transaction=True)
def test_only_the_communes_behind_are_migrated_in_the_pool(commune_a, commune_b, monkeypatch):
    # A commune whose schema is empty (as if its creation had been interrupted before).
    behind = Commune(schema_name="c_en_retard", slug="en-retard", name="En retard")
    behind.auto_create_schema = False
    behind.save(verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "c_en_retard"')
    migrated = []
    pool = migrate_platform.migrate_schemas_in_pool

    def spy(schemas, jobs):
        migrated.append((list(schemas), jobs))
        return pool(schemas, jobs)

    monkeypatch.setattr(migrate_platform, "migrate_schemas_in_pool", spy)
    try:
        call_command("migrate_platform", "--jobs", "2", verbosity=0)
        call_command("migrate_platform", "--jobs", "2", verbosity=0)

        assert migrated == [(["c_en_retard"], 2), ([], 2)]
        connection.set_schema_to_public()
        assert schema_factory.schema_signature("c_en_retard") == (
            schema_factory.schema_signature(commune_a.schema_name)
        )
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute('DROP SCHEMA IF EXISTS "c_en_retard" CASCADE')
        Commune.objects.filter(slug="en-retard").delete()
