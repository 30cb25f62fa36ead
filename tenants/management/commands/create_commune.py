from django.core.management.base import BaseCommand, CommandError

from shared_apps.common.errors import DomainError
from tenants.services import create_commune


class Command(BaseCommand):
    help = "Open a new commune (tenant): its schema is cloned from the migrated template."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="address identifier, e.g. baneins (→ /c/baneins/)")
        parser.add_argument("--name", required=True, help='display name, e.g. "Baneins"')
        parser.add_argument(
            "--insee", required=True, help="INSEE code, e.g. 01030: it decides the calendar"
        )
        parser.add_argument(
            "--zone",
            default="",
            help="school-holiday zone (A, B, C, Corse, Réunion…): optional, derived from the "
            "INSEE code; refused if it disagrees",
        )
        parser.add_argument("--email", default="", help="the commune's contact e-mail")

    def handle(self, *args, **options):
        try:
            commune = create_commune(
                slug=options["slug"],
                name=options["name"],
                insee_code=options["insee"],
                holiday_zone=options["zone"],
                contact_email=options["email"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Commune « {commune.name} » créée : /c/{commune.slug}/")
        )
