from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.models import Commune
from tenants.services import ensure_template_schema, restore_constraint_names


class Command(BaseCommand):
    help = (
        "Migrate everything: the public schema, the commune template schema (new communes are "
        "cloned from it) and every commune."
    )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        ensure_template_schema(verbosity=verbosity)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
        # Communes cloned before names were restored at creation get them now (idempotent).
        for schema in Commune.objects.values_list("schema_name", flat=True):
            restore_constraint_names(settings.TENANT_BASE_SCHEMA, schema)
