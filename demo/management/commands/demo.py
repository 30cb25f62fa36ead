from django.core.management.base import BaseCommand

from demo.communes import DEMO_COMMUNES, DEMO_PARENT_EMAIL, DEMO_PASSWORD, load_demo
from demo.family import load_family_life


class Command(BaseCommand):
    help = "Load the demo data (idempotent): three communes, their services, a family, staff."

    def handle(self, *args, **options):
        logins = load_demo()
        load_family_life(DEMO_PARENT_EMAIL, {spec.slug: spec.staff_email for spec in DEMO_COMMUNES})
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(f"Identifiants de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for who, email in logins:
            self.stdout.write(f"  - {who} : {email}")
