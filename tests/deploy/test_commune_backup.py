"""One commune backed up and restored alone: its schema and its public rows, nothing else."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from tenants.models import Commune, Membership, Role
from tenants.services import create_commune
from tests.factories import UserFactory

SLUG = "sauvegarde-test"


@pytest.fixture
def commune(transactional_db):
    commune = create_commune(slug=SLUG, name="Sauvegarde", insee_code="01002")
    yield commune
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [f"{commune.schema_name}%"]
        )
        for (schema,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.django_db(transaction=True)
def test_a_commune_is_restored_alone_from_its_dump(commune, commune_b, tmp_path):
    from tenant_apps.catalog.models import Service

    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune, role=Role.MANAGER)
    with tenant_context(commune):
        Service.objects.create(kind="canteen", name="Cantine d’avant")
    with tenant_context(commune_b):
        Service.objects.create(kind="canteen", name="Cantine de B")

    call_command("commune_backup", "dump", SLUG, str(tmp_path))

    # The damage: the commune's service renamed, another added, its staff removed; B changes too.
    with tenant_context(commune):
        Service.objects.update(name="Cantine abîmée")
        Service.objects.create(kind="canteen", name="Ajoutée après")
    Membership.objects.filter(commune=commune).delete()
    with tenant_context(commune_b):
        Service.objects.create(kind="canteen", name="Nouvelle de B")

    call_command("commune_backup", "restore", SLUG, str(tmp_path))

    restored = Commune.objects.get(slug=SLUG)
    with tenant_context(restored):
        assert list(Service.objects.values_list("name", flat=True)) == ["Cantine d’avant"]
    assert Membership.objects.filter(commune=restored, user=agent, role=Role.MANAGER).exists()
    with tenant_context(commune_b):  # the other commune is untouched
        assert sorted(Service.objects.values_list("name", flat=True)) == [
            "Cantine de B",
            "Nouvelle de B",
        ]
    with connection.cursor() as cursor:  # the damaged schema is kept aside, not dropped
        cursor.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE %s",
            [f"{restored.schema_name}_replaced_%"],
        )
        assert cursor.fetchone()[0] == 1
