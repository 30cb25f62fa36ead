"""Demo data: the guide's three communes, their services, a family, staff and an operator.

Idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.directory.selectors import published_service
from shared_apps.families.models import Relation
from shared_apps.families.selectors import children_of
from shared_apps.families.services import add_child
from tenant_apps.catalog import services as catalog
from tenant_apps.catalog.models import DocumentType, PaymentMethod, Product, Service, ServiceKind
from tenants.models import Commune, Role
from tenants.services import create_commune
from tenants.staff import add_staff_member

DEMO_PASSWORD = "marelle-demo-2026"


@dataclass(frozen=True)
class DemoProduct:
    name: str
    price_cents: int
    description: str = ""
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoDocument:
    code: str
    label: str
    help_text: str
    required: bool = True


@dataclass(frozen=True)
class DemoService:
    kind: str
    name: str  # reads well as "<name> de <commune>" in the wallet: "Garderie de Baneins"
    description: str
    payment_methods: tuple[str, ...]
    products: tuple[DemoProduct, ...]
    documents: tuple[DemoDocument, ...]


@dataclass(frozen=True)
class DemoCommune:
    slug: str
    name: str
    insee_code: str
    zone: str
    colour: str
    services: tuple[DemoService, ...]
    staff_email: str


CARD, WALLET, DIRECT_DEBIT = PaymentMethod.CARD, PaymentMethod.WALLET, PaymentMethod.DIRECT_DEBIT
MEAL_VARIANTS = ("Standard", "Sans viande", "PAI (panier repas)")
PROOF_OF_ADDRESS = DemoDocument(
    "justificatif-domicile",
    "Justificatif de domicile",
    "Facture d’énergie, de téléphone ou avis d’imposition de moins de 3 mois.",
)
INSURANCE = DemoDocument(
    "attestation-assurance",
    "Attestation d’assurance",
    "Responsabilité civile et individuelle accident de l’enfant pour l’année scolaire.",
)
QUOTIENT_FAMILIAL = DemoDocument(
    "quotient-familial",
    "Attestation de quotient familial CAF",
    "Facultative : sans elle, le tarif le plus élevé s’applique.",
    required=False,
)

DEMO_COMMUNES = (
    DemoCommune(
        slug="saint-marcel-en-dombes",
        name="Saint-Marcel-en-Dombes",
        insee_code="01379",
        zone="A",
        colour="#2E6B30",
        services=(
            DemoService(
                kind=ServiceKind.CANTINE,
                name="Cantine",
                description="Restaurant scolaire de l’école communale.",
                payment_methods=(CARD, WALLET, DIRECT_DEBIT),
                products=(
                    DemoProduct(
                        "Réservation repas cantine",
                        380,
                        "Le repas du midi au restaurant scolaire.",
                        MEAL_VARIANTS,
                    ),
                ),
                documents=(PROOF_OF_ADDRESS, INSURANCE, QUOTIENT_FAMILIAL),
            ),
        ),
        staff_email="agent@saint-marcel-en-dombes.demo.marelle.fr",
    ),
    DemoCommune(
        slug="baneins",
        name="Baneins",
        insee_code="01030",
        zone="A",
        colour="#8A3B12",
        services=(
            DemoService(
                kind=ServiceKind.GARDERIE,
                name="Garderie",
                description="Accueil du matin et du soir à l’école.",
                payment_methods=(CARD, WALLET),
                products=(
                    DemoProduct("Garderie matin", 150, "De 7 h 30 au début de la classe."),
                    DemoProduct("Garderie soir", 200, "De la fin de la classe à 18 h 30."),
                ),
                documents=(PROOF_OF_ADDRESS, INSURANCE),
            ),
        ),
        staff_email="agent@baneins.demo.marelle.fr",
    ),
    DemoCommune(
        slug="le-puy-en-velay",
        name="Le Puy-en-Velay",
        insee_code="43157",
        zone="A",
        colour="#1F5FAD",
        services=(
            DemoService(
                kind=ServiceKind.CANTINE,
                name="Cantine",
                description="Restauration scolaire des écoles publiques.",
                payment_methods=(CARD, WALLET),
                products=(
                    DemoProduct(
                        "Réservation repas cantine",
                        410,
                        "Le repas du midi au restaurant scolaire.",
                        MEAL_VARIANTS,
                    ),
                ),
                documents=(PROOF_OF_ADDRESS, INSURANCE, QUOTIENT_FAMILIAL),
            ),
            DemoService(
                kind=ServiceKind.PERISCOLAIRE,
                name="Garderie périscolaire",
                description="Accueil avant et après la classe.",
                payment_methods=(CARD, WALLET, DIRECT_DEBIT),
                products=(
                    DemoProduct("Accueil du matin", 120, "De 7 h 30 au début de la classe."),
                    DemoProduct("Accueil du soir", 180, "De la fin de la classe à 18 h 30."),
                ),
                documents=(PROOF_OF_ADDRESS, INSURANCE, QUOTIENT_FAMILIAL),
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
    with tenant_context(commune), transaction.atomic():
        for service_spec in spec.services:
            ensure_demo_service(service_spec)
    return commune


def ensure_demo_service(spec: DemoService) -> Service:
    """Bring one service of the current commune to the demo's configuration, through the
    catalogue's services (so it is published to the directory). Writes only what differs, so a
    second run changes nothing."""
    service = Service.objects.filter(name=spec.name).first()
    wanted = {
        "kind": spec.kind,
        "name": spec.name,
        "description": spec.description,
        "payment_methods": list(spec.payment_methods),
    }
    if (
        service is None
        or any(getattr(service, field) != value for field, value in wanted.items())
        or published_service(connection.tenant, service.pk) is None
    ):
        service = catalog.save_service(service=service, data=wanted)
    for product_spec in spec.products:
        _ensure_demo_product(service, product_spec)
    for document_spec in spec.documents:
        _ensure_demo_document(service, document_spec)
    return service


def _ensure_demo_product(service: Service, spec: DemoProduct) -> None:
    product = Product.objects.filter(service=service, name=spec.name).first()
    variants = list(spec.variants)
    if (
        product is None
        or product.price_cents != spec.price_cents
        or product.description != spec.description
        or sorted(product.variants.values_list("name", flat=True)) != sorted(variants)
    ):
        catalog.save_product(
            service=service,
            product=product,
            data={
                "name": spec.name,
                "price_cents": spec.price_cents,
                "description": spec.description,
                "variants": variants,
            },
        )


def _ensure_demo_document(service: Service, spec: DemoDocument) -> None:
    document_type = DocumentType.objects.filter(service=service, code=spec.code).first()
    if document_type is None or (
        document_type.label,
        document_type.help_text,
        document_type.required,
    ) != (spec.label, spec.help_text, spec.required):
        catalog.save_document_type(
            service=service,
            document_type=document_type,
            data={
                "code": spec.code,
                "label": spec.label,
                "help_text": spec.help_text,
                "required": spec.required,
            },
        )


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
