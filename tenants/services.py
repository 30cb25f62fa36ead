"""Onboarding: the template schema and the creation of communes from it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django_tenants.models import TenantMixin
from django_tenants.signals import post_schema_sync
from django_tenants.utils import get_public_schema_name, schema_exists

from shared_apps.common.errors import Conflict, DomainError
from tenants import schema_factory
from tenants.calendar import UnservedPlace, check_serviceable
from tenants.models import Commune

if TYPE_CHECKING:
    from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = {"public", "api", "admin", "static", "media", "template", "c"}


class InvalidCommune(DomainError):
    code = "invalid_commune"


class CommuneAlreadyExists(Conflict):
    code = "commune_exists"
    message = "Une commune utilise déjà cet identifiant."


class CommuneInactive(Conflict):
    code = "commune_inactive"
    message = "Cette commune n’accepte plus de réservations."


class CommuneSuspended(DomainError):
    code = "commune_suspended"
    status = 403
    message = (
        "Le service de cette commune est suspendu : aucune réservation ni aucun paiement "
        "pour le moment."
    )


class InvalidSuspension(DomainError):
    code = "invalid_suspension"


def tenant_connection() -> TenantDatabaseWrapper:
    """The default connection as django-tenants makes it (with its schema), typed as such."""
    return cast("TenantDatabaseWrapper", connection)


class WrongSchema(RuntimeError):
    """A use case of one commune ran on another's schema (or the public one): a programming
    error, never a client's, so it is not a DomainError and answers 500."""


def assert_on_schema(commune: Commune) -> None:
    """Refuse to go on unless the connection is on `commune`'s schema.

    Tenant-app use cases take their commune explicitly (from `request.tenant`, or a task's
    commune) and call this first: a row written in another commune's schema would be a leak
    no test of the happy path can see.
    """
    current = tenant_connection().schema_name
    if current != commune.schema_name:
        raise WrongSchema(f"use case for {commune.schema_name!r} ran on schema {current!r}")


def lock_active_commune(commune: Commune) -> None:
    """Inside a money-moving transaction: refuse unless the commune is active in the database
    and not suspended.

    The commune the request resolved may come from a process cache that has not yet heard of a
    deactivation or a suspension; the database has. The row is read FOR SHARE: concurrent
    checkouts do not wait for each other, but a deactivation or a suspension (an UPDATE of the
    row) waits for the ones under way, and the ones after it see it. Inputs: the commune (any
    instance with its pk). Errors: CommuneInactive (409), also when the row is gone;
    CommuneSuspended (403). Must run inside transaction.atomic (the lock lasts until its end).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("lock_active_commune must run inside the caller's transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT is_active, suspended_at IS NOT NULL "
            f'FROM "{get_public_schema_name()}"."{Commune._meta.db_table}" '
            "WHERE id = %s FOR SHARE",
            [commune.pk],
        )
        row = cursor.fetchone()
    if row is None or not row[0]:
        raise CommuneInactive()
    if row[1]:
        raise CommuneSuspended()


def commune_is_suspended(commune_or_schema: Commune | str) -> bool:
    """Whether the commune is suspended now, read from the database (never from a cache).

    For tasks already queued before a suspension: they look again when they run. Input: the
    commune or its schema name. An unknown commune counts as suspended (nothing to do there).
    """
    filters = (
        {"schema_name": commune_or_schema}
        if isinstance(commune_or_schema, str)
        else {"pk": commune_or_schema.pk}
    )
    row = Commune.objects.filter(**filters).values_list("suspended_at", "is_active").first()
    return row is None or row[0] is not None or not row[1]


def suspend_commune(*, commune: Commune, reason: str) -> Commune:
    """Suspend a commune: it stays served (its pages say the service is suspended) and nothing
    is deleted, but from the commit on it takes no booking, cancellation with refund, top-up,
    checkout, counter payment, invoice collection or attendance money movement, in any process.

    How "at once" holds: the UPDATE takes the row's lock, so it waits for the money-moving
    transactions under way (they hold it FOR SHARE through lock_active_commune) and every later
    one reads the suspension under that lock; the save bumps the shared routing version, so every
    process reloads the commune (and its banner) on its next request. Inputs: the commune, the
    reason (required, shown to the commune's staff and families; at most 300 characters).
    Errors: InvalidSuspension (no reason), Conflict (already suspended). The caller audits.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidSuspension(
            "Indiquez le motif de la suspension.",
            fields={"reason": ["Indiquez le motif de la suspension."]},
        )
    if len(reason) > 300:
        raise InvalidSuspension(
            "Le motif tient en 300 caractères au plus.",
            fields={"reason": ["300 caractères au plus."]},
        )
    from django.utils import timezone

    with transaction.atomic():
        locked = Commune.objects.select_for_update().get(pk=commune.pk)
        if locked.suspended_at is not None:
            raise Conflict("Cette commune est déjà suspendue.")
        locked.suspended_at = timezone.now()
        locked.suspension_reason = reason
        locked.save(update_fields=["suspended_at", "suspension_reason"])
    return locked


def resume_commune(*, commune: Commune) -> Commune:
    """Lift a suspension: bookings and payments are taken again at once, in every process
    (the same lock and routing-version bump as suspend_commune). Nothing has to be restored:
    a suspension deleted nothing. Errors: Conflict (not suspended). The caller audits."""
    with transaction.atomic():
        locked = Commune.objects.select_for_update().get(pk=commune.pk)
        if locked.suspended_at is None:
            raise Conflict("Cette commune n’est pas suspendue.")
        locked.suspended_at = None
        locked.suspension_reason = ""
        locked.save(update_fields=["suspended_at", "suspension_reason"])
    return locked


def set_general_credit(*, commune: Commune, accepted: bool) -> Commune:
    """Whether the commune's services may be paid from the "all services" pocket (money already
    in it stays; only what it pays changes). Saved under the row's lock; the routing version is
    bumped (every process sees it at once). The caller audits."""
    with transaction.atomic():
        locked = Commune.objects.select_for_update().get(pk=commune.pk)
        locked.accepts_general_credit = bool(accepted)
        locked.save(update_fields=["accepts_general_credit"])
    return locked


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
    tenant_connection().set_schema_to_public()


def create_commune(
    *,
    slug: str,
    name: str,
    insee_code: str = "",
    holiday_zone: str = "",
    contact_email: str = "",
    brand_colour: str = "#1F5FAD",
) -> Commune:
    """Open a new commune: validate, then build its schema (tenants.schema_factory), all or nothing.

    The INSEE code is required: it places the commune, and its place decides its calendar
    (public holidays, school-holiday zone; tenants.calendar). `holiday_zone` may be left empty
    (it is derived); if given it must agree with the code. A place whose school calendar
    Marelle does not have is refused. Errors: InvalidCommune, CommuneAlreadyExists.
    """
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
    if not (insee_code or "").strip():
        raise InvalidCommune(
            "Le code INSEE est obligatoire : il décide du calendrier de la commune.",
            fields={"insee_code": ["Requis."]},
        )
    try:
        place = check_serviceable(insee_code, holiday_zone=(holiday_zone or "").strip())
    except UnservedPlace as exc:
        raise InvalidCommune(exc.message, fields=exc.fields) from exc

    commune = Commune(
        schema_name=schema_name_for(slug),
        slug=slug,
        name=name,
        insee_code=place.insee_code,
        holiday_zone=place.school_zone,
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

    try:
        _save_with_schema(commune)
    except IntegrityError as exc:  # a concurrent create_commune won the race
        raise CommuneAlreadyExists() from exc
    return commune


def _save_with_schema(commune: Commune) -> None:
    """Insert the commune's row and build its schema in one transaction.

    By default the schema is built by replaying the migrations' captured SQL
    (tenants.schema_factory: flat in the number of communes, names as migrated). The setting
    COMMUNE_SCHEMA_BUILDER = "django-tenants" keeps django-tenants' own way, which the
    benchmarks compare: a clone of the template (TENANT_CREATION_FAKES_MIGRATIONS=True), or
    every migration run on an empty schema (False).
    """
    if getattr(settings, "COMMUNE_SCHEMA_BUILDER", "replay") == "replay":
        schema_factory.blueprint_sql()  # captured outside the transaction if it must be
        with transaction.atomic():
            commune.auto_create_schema = False
            commune.save(verbosity=0)
            schema_factory.build_schema(commune.schema_name)
            post_schema_sync.send(sender=TenantMixin, tenant=commune.serializable_fields())
        return
    if not schema_exists(settings.TENANT_BASE_SCHEMA):
        ensure_template_schema()
    with transaction.atomic():
        commune.save(verbosity=0)
        restore_constraint_names(settings.TENANT_BASE_SCHEMA, commune.schema_name)


def _named_objects(cursor: CursorWrapper, schema: str) -> dict[tuple[str, str, str], str]:
    """(kind, table, definition) → name, for the constraints and indexes of `schema`."""
    cursor.execute(
        """
        SELECT 'constraint', c.relname, pg_get_constraintdef(k.oid), k.conname
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s
        UNION ALL
        SELECT 'index', i.tablename, replace(i.indexdef, i.indexname, ''), i.indexname
        FROM pg_indexes i WHERE i.schemaname = %s AND NOT EXISTS (
            SELECT 1 FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
            WHERE n.nspname = %s AND k.conname = i.indexname)
        """,
        [schema, schema, schema],
    )
    return {
        (kind, table, definition.replace(f'"{schema}".', "").replace(f"{schema}.", "")): name
        for kind, table, definition, name in cursor.fetchall()
    }


def restore_constraint_names(template: str, schema: str) -> int:
    """Give a cloned schema the template's constraint and index names.

    The clone (CREATE TABLE … LIKE … INCLUDING ALL) invents new names for unique constraints and
    indexes; later migrations that drop or alter them by name would then fail on every commune.
    """
    renamed = 0
    with connection.cursor() as cursor:
        wanted = _named_objects(cursor, template)
        for key, current in _named_objects(cursor, schema).items():
            target = wanted.get(key)
            if target and target != current:
                kind, table, _ = key
                if kind == "constraint":
                    cursor.execute(
                        f'ALTER TABLE "{schema}"."{table}" '
                        f'RENAME CONSTRAINT "{current}" TO "{target}"'
                    )
                else:
                    cursor.execute(f'ALTER INDEX "{schema}"."{current}" RENAME TO "{target}"')
                renamed += 1
    return renamed
