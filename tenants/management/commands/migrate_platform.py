from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.services import ensure_template_schema


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
