from django.core.management.base import BaseCommand, CommandError

from shared_apps.common.errors import DomainError
from tenants.models import Role
from tenants.staff import add_staff_member


class Command(BaseCommand):
    help = "Give a person staff rights (agent or manager) in one commune, creating the account."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("email")
        parser.add_argument("--role", choices=Role.values, default=Role.AGENT)
        parser.add_argument("--password", default=None)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args, **options):
        try:
            membership = add_staff_member(
                commune_slug=options["slug"],
                email=options["email"],
                role=options["role"],
                password=options["password"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"{membership} : accès enregistré."))
