"""Onboarding: the template schema and the creation of communes from it."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_exists

from shared_apps.common.errors import Conflict, DomainError
from tenants.models import Commune

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = {"public", "api", "admin", "static", "media", "template", "c"}


class InvalidCommune(DomainError):
    code = "invalid_commune"


class CommuneAlreadyExists(Conflict):
    code = "commune_exists"
    message = "Une commune utilise déjà cet identifiant."


def schema_name_for(slug: str) -> str:
    """Schema names are derived, never typed: 'saint-marcel' → 'c_saint_marcel'."""
    return "c_" + slug.replace("-", "_")


def ensure_template_schema(*, verbosity: int = 0) -> None:
    """Create the template schema if missing and bring it to the latest migrations.

    Every commune is a clone of it, so it must be migrated whenever the tenant apps are.
    """
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{template}"')
    call_command(
        "migrate_schemas", tenant=True, schema_name=template, interactive=False, verbosity=verbosity
    )
    connection.set_schema_to_public()


def create_commune(
    *,
    slug: str,
    name: str,
    insee_code: str = "",
    holiday_zone: str = "",
    contact_email: str = "",
    brand_colour: str = "#1F5FAD",
) -> Commune:
    """Open a new commune: validate, then clone its schema from the template, all or nothing."""
    slug = (slug or "").strip()
    name = (name or "").strip()
    if not SLUG_RE.match(slug) or len(slug) > 50 or slug in RESERVED_SLUGS:
        raise InvalidCommune(
            "Identifiant invalide : lettres minuscules, chiffres et tirets (ex. baneins).",
            fields={"slug": ["Identifiant invalide."]},
        )
    if not name:
        raise InvalidCommune("Le nom de la commune est obligatoire.", fields={"name": ["Requis."]})
    if Commune.objects.filter(slug=slug).exists() or schema_exists(schema_name_for(slug)):
        raise CommuneAlreadyExists()

    commune = Commune(
        schema_name=schema_name_for(slug),
        slug=slug,
        name=name,
        insee_code=insee_code,
        holiday_zone=holiday_zone,
        contact_email=contact_email,
        brand_colour=brand_colour,
    )
    try:
        commune.full_clean()
    except ValidationError as exc:
        raise InvalidCommune(
            "; ".join(m for msgs in exc.message_dict.values() for m in msgs),
            fields=exc.message_dict,
        ) from exc

    if not schema_exists(settings.TENANT_BASE_SCHEMA):
        ensure_template_schema()
    try:
        with transaction.atomic():
            commune.save(verbosity=0)
    except IntegrityError as exc:  # a concurrent create_commune won the race
        raise CommuneAlreadyExists() from exc
    return commune
