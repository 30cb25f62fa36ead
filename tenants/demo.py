"""Demo data: the guide's three communes, their services, a family, staff and an operator.

Idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.families.models import Relation
from shared_apps.families.selectors import children_of
from shared_apps.families.services import add_child
from tenant_apps.catalog.models import Service, ServiceKind
from tenants.models import Commune, Role
from tenants.services import create_commune
from tenants.staff import add_staff_member

DEMO_PASSWORD = "marelle-demo-2026"


@dataclass(frozen=True)
class DemoCommune:
    slug: str
    name: str
    insee_code: str
    zone: str
    colour: str
    services: tuple[tuple[str, str, str], ...]  # (kind, name, description)
    staff_email: str


DEMO_COMMUNES = (
    DemoCommune(
        slug="saint-marcel-en-dombes",
        name="Saint-Marcel-en-Dombes",
        insee_code="01379",
        zone="A",
        colour="#2E6B30",
        services=((ServiceKind.CANTINE, "Cantine", "Restaurant scolaire de l’école communale."),),
        staff_email="agent@saint-marcel-en-dombes.demo.marelle.fr",
    ),
    DemoCommune(
        slug="baneins",
        name="Baneins",
        insee_code="01030",
        zone="A",
        colour="#8A3B12",
        services=((ServiceKind.GARDERIE, "Garderie", "Accueil du matin et du soir à l’école."),),
        staff_email="agent@baneins.demo.marelle.fr",
    ),
    DemoCommune(
        slug="le-puy-en-velay",
        name="Le Puy-en-Velay",
        insee_code="43157",
        zone="A",
        colour="#1F5FAD",
        services=(
            (ServiceKind.CANTINE, "Cantine", "Restauration scolaire des écoles publiques."),
            (
                ServiceKind.PERISCOLAIRE,
                "Garderie périscolaire",
                "Accueil avant et après la classe.",
            ),
        ),
        staff_email="agent@le-puy-en-velay.demo.marelle.fr",
    ),
)

DEMO_PARENT_EMAIL = "parent@demo.marelle.fr"
DEMO_OPERATOR_EMAIL = "operateur@demo.marelle.fr"


def _ensure_commune(spec: DemoCommune) -> Commune:
    commune = Commune.objects.filter(slug=spec.slug).first()
    if commune is None:
        commune = create_commune(
            slug=spec.slug,
            name=spec.name,
            insee_code=spec.insee_code,
            holiday_zone=spec.zone,
            contact_email=f"mairie@{spec.slug}.demo.marelle.fr",
            brand_colour=spec.colour,
        )
    with tenant_context(commune):
        for kind, name, description in spec.services:
            Service.objects.get_or_create(
                name=name, defaults={"kind": kind, "description": description}
            )
    return commune


def _ensure_user(email: str, **fields):
    User = get_user_model()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email, DEMO_PASSWORD, email_verified_at=timezone.now(), **fields
        )
    return user


DEMO_CHILDREN = (
    {
        "first_name": "Léa",
        "birth_date": datetime.date(2017, 5, 12),
        "school_class": "CE2",
        "notes": "",
    },
    {
        "first_name": "Hugo",
        "birth_date": datetime.date(2020, 1, 20),
        "school_class": "MS",
        "notes": "Allergie aux arachides (PAI).",
    },
)


def _ensure_children(parent) -> None:
    if children_of(parent).exists():
        return
    for child in DEMO_CHILDREN:
        add_child(user=parent, data={"last_name": "Martin", "relation": Relation.MOTHER, **child})


def load_demo() -> list[tuple[str, str]]:
    """Create what is missing; return the demo logins as (who, e-mail)."""
    logins: list[tuple[str, str]] = []
    for spec in DEMO_COMMUNES:
        _ensure_commune(spec)
    with transaction.atomic():
        operator = _ensure_user(DEMO_OPERATOR_EMAIL, first_name="Olivia", last_name="Opératrice")
        if not operator.is_operator:
            operator.is_operator = operator.is_staff = operator.is_superuser = True
            operator.save(update_fields=["is_operator", "is_staff", "is_superuser"])
        logins.append(("Opératrice de la plateforme (admin : /admin/)", DEMO_OPERATOR_EMAIL))
        parent = _ensure_user(
            DEMO_PARENT_EMAIL,
            first_name="Camille",
            last_name="Martin",
            phone="06 12 34 56 78",
            address="12 rue des Étangs\n01390 Saint-Marcel",
        )
        _ensure_children(parent)
        logins.append(("Parent (famille Martin, deux enfants)", DEMO_PARENT_EMAIL))
        for spec in DEMO_COMMUNES:
            if not get_user_model().objects.filter(email=spec.staff_email).exists():
                add_staff_member(
                    commune_slug=spec.slug,
                    email=spec.staff_email,
                    role=Role.MANAGER,
                    password=DEMO_PASSWORD,
                    first_name="Agent",
                    last_name=spec.name,
                )
            logins.append((f"Agent, {spec.name}", spec.staff_email))
    return logins
