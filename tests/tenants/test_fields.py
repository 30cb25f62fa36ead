"""A commune table's reference to a public row: no constraint, no cascade, no reverse accessor."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, models

from tenant_apps.bookings.models import Cart, Reservation
from tenants.fields import PublicOneToOneRef, PublicRef


def test_a_public_ref_has_the_defaults_a_commune_table_needs():
    field = Reservation._meta.get_field("family")

    assert isinstance(field, PublicRef)
    assert field.remote_field.on_delete is models.DO_NOTHING
    assert field.db_constraint is False
    assert field.remote_field.hidden


def test_a_public_one_to_one_ref_is_unique():
    field = Cart._meta.get_field("family")

    assert isinstance(field, PublicOneToOneRef)
    assert field.unique and field.db_constraint is False


def test_migrations_carry_only_what_the_declaration_says():
    field = PublicRef(settings.AUTH_USER_MODEL, null=True, blank=True)
    field.set_attributes_from_name("decided_by")

    _name, path, _args, kwargs = field.deconstruct()

    assert path == "tenants.fields.PublicRef"
    assert kwargs == {"to": settings.AUTH_USER_MODEL.lower(), "null": True, "blank": True}


def test_a_declared_related_name_is_kept():
    field = PublicRef("families.Family", related_name="profiles")
    field.set_attributes_from_name("family")

    assert field.deconstruct()[3]["related_name"] == "profiles"


@pytest.mark.django_db
def test_no_commune_table_has_a_database_foreign_key_to_the_public_schema():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT src.relname, k.conname FROM pg_constraint k "
            "JOIN pg_class src ON src.oid = k.conrelid "
            "JOIN pg_namespace sn ON sn.oid = src.relnamespace "
            "JOIN pg_class dst ON dst.oid = k.confrelid "
            "JOIN pg_namespace dn ON dn.oid = dst.relnamespace "
            "WHERE k.contype = 'f' AND sn.nspname = %s AND dn.nspname = 'public'",
            [settings.TENANT_BASE_SCHEMA],
        )
        assert cursor.fetchall() == []
