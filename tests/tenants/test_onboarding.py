"""Opening communes: cloned from the template, validated, all or nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists

from tenants.models import Commune
from tenants.services import CommuneAlreadyExists, InvalidCommune, create_commune

pytestmark = pytest.mark.django_db


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def _applied_migrations(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def test_create_commune_clones_the_template_at_the_same_migration_state(client):
    commune = create_commune(slug="villeneuve", name="Villeneuve", insee_code="01449")

    assert schema_exists("c_villeneuve")
    assert _applied_migrations("c_villeneuve") == _applied_migrations(settings.TENANT_BASE_SCHEMA)
    response = client.get("/c/villeneuve/")
    assert response.status_code == 200
    assert "Villeneuve" in response.content.decode()
    assert commune.schema_name == "c_villeneuve"


def test_template_schema_holds_no_business_rows():
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{settings.TENANT_BASE_SCHEMA}".catalog_service')
        assert cursor.fetchone()[0] == 0


def test_create_commune_twice_with_the_same_slug_fails_cleanly_and_changes_nothing(commune_a):
    communes_before, schemas_before = Commune.objects.count(), _schemas()

    with pytest.raises(CommandError, match="déjà"):
        call_command("create_commune", "commune-a", "--name", "Une autre", "--insee", "01001")

    assert Commune.objects.count() == communes_before
    assert _schemas() == schemas_before
    assert Commune.objects.get(slug="commune-a").name == "Commune A"


@pytest.mark.parametrize(
    "slug", ["", "Majuscules", "avec espace", "accentué", "-tiret", "public", "a" * 51, "x;drop"]
)
def test_create_commune_with_a_bad_slug_changes_nothing(slug):
    communes_before, schemas_before = Commune.objects.count(), _schemas()
    with pytest.raises(InvalidCommune):
        create_commune(slug=slug, name="Nom")
    assert Commune.objects.count() == communes_before
    assert _schemas() == schemas_before


def test_create_commune_with_a_bad_insee_code_changes_nothing():
    schemas_before = _schemas()
    with pytest.raises(InvalidCommune, match="INSEE"):
        create_commune(slug="mauvais-insee", name="Nom", insee_code="ABCDE")
    assert not Commune.objects.filter(slug="mauvais-insee").exists()
    assert _schemas() == schemas_before


def test_create_commune_command_prints_the_address(capsys):
    call_command(
        "create_commune", "marlieux", "--name", "Marlieux", "--insee", "01232", "--zone", "A"
    )
    assert "/c/marlieux/" in capsys.readouterr().out
    assert Commune.objects.get(slug="marlieux").holiday_zone == "A"


def test_duplicate_error_is_a_conflict():
    with pytest.raises(CommuneAlreadyExists):
        create_commune(slug="commune-b", name="Doublon")


def _names(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, k.conname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
            "UNION SELECT tablename, indexname FROM pg_indexes WHERE schemaname = %s",
            [schema, schema],
        )
        return set(cursor.fetchall())


def test_a_cloned_commune_keeps_the_templates_constraint_and_index_names():
    """Later migrations drop or alter constraints by name: a clone must carry the same ones."""
    create_commune(slug="clonee", name="Clonée", insee_code="01001")
    assert _names("c_clonee") == _names(settings.TENANT_BASE_SCHEMA)
    assert ("catalog_service", "unique_service_name") in _names("c_clonee")


def test_the_zone_follows_from_the_insee_code():
    assert (
        create_commune(slug="ajaccio", name="Ajaccio", insee_code="2A004").holiday_zone == "Corse"
    )
    assert create_commune(slug="metz", name="Metz", insee_code="57463").holiday_zone == "B"


@pytest.mark.parametrize(
    ("insee_code", "zone", "message"),
    [
        ("", "", "obligatoire"),
        ("57463", "A", "ne correspond pas"),  # Metz is in zone B
        ("01001", "Corse", "ne correspond pas"),
        ("20004", "", "aucune commune"),  # no more département 20 since 1976
        ("97105", "", "pas encore dans Marelle"),  # Guadeloupe: not in the shipped snapshot
    ],
)
def test_create_commune_refuses_a_place_we_cannot_serve_and_changes_nothing(
    insee_code, zone, message
):
    communes_before, schemas_before = Commune.objects.count(), _schemas()
    with pytest.raises(InvalidCommune, match=message):
        create_commune(slug="ailleurs", name="Ailleurs", insee_code=insee_code, holiday_zone=zone)
    assert Commune.objects.count() == communes_before
    assert _schemas() == schemas_before


def test_create_commune_command_refuses_a_zone_the_insee_code_contradicts():
    with pytest.raises(CommandError, match="ne correspond pas"):
        call_command("create_commune", "metz", "--name", "Metz", "--insee", "57463", "--zone", "A")
    assert not Commune.objects.filter(slug="metz").exists()
