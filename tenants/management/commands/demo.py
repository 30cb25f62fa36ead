from django.core.management.base import BaseCommand

from tenants.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo data (idempotent): three communes, their services, a family, staff."

    def handle(self, *args, **options):
        logins = load_demo()
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(f"Identifiants de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for who, email in logins:
            self.stdout.write(f"  - {who} : {email}")
