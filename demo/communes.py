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
from tenant_apps.bookings import rules as booking_rules
from tenant_apps.catalog import services as catalog
from tenant_apps.catalog.forms import (
    booking_rules_changes,
    document_type_changes,
    product_changes,
    service_changes,
)
from tenant_apps.catalog.models import (
    Closure,
    DeadlineKind,
    DocumentType,
    OpeningPeriod,
    PaymentMethod,
    Product,
    Service,
    ServiceKind,
)
from tenants.calendar import commune_calendar
from tenants.models import Commune, Role
from tenants.services import create_commune
from tenants.staff import add_staff_member

DEMO_PASSWORD = "marelle-demo-2026"


@dataclass(frozen=True)
class DemoDeadline:
    kind: str
    days: int = 0
    weekday: int = 3
    time: datetime.time = datetime.time(12, 0)


@dataclass(frozen=True)
class DemoRules:
    """A product's booking rules, as a manager would set them on "Règles de réservation"."""

    booking: DemoDeadline
    cancel: DemoDeadline
    late_refund_percent: int | None  # None: no longer cancellable after the deadline
    weekdays: tuple[int, ...] = (0, 1, 3, 4)  # Monday, Tuesday, Thursday, Friday
    opening_period: str = OpeningPeriod.SCHOOL_DAYS
    daily_capacity: int | None = None
    qf_brackets: tuple[tuple[int, int], ...] = ()  # (max QF, price in cents), ascending
    sibling_reduction_percent: int = 0

    def as_data(self) -> dict:
        """The booking rules as a manager types them, and as a product holds them once saved."""
        data = {
            "weekdays": list(self.weekdays),
            "opening_period": self.opening_period,
            "late_cancellation_refund_percent": self.late_refund_percent,
            "daily_capacity": self.daily_capacity,
            "qf_brackets": [{"max_qf": q, "price_cents": p} for q, p in self.qf_brackets],
            "sibling_reduction_percent": self.sibling_reduction_percent,
        }
        for prefix, deadline in (("booking", self.booking), ("cancel", self.cancel)):
            data[f"{prefix}_deadline_kind"] = deadline.kind
            data[f"{prefix}_deadline_time"] = deadline.time
            # Only the part the kind uses: the others are not saved, so not compared either.
            if deadline.kind == DeadlineKind.WORKING_DAYS_BEFORE:
                data[f"{prefix}_deadline_days"] = deadline.days
            elif deadline.kind == DeadlineKind.WEEKDAY_BEFORE:
                data[f"{prefix}_deadline_weekday"] = deadline.weekday
        return data


@dataclass(frozen=True)
class DemoProduct:
    name: str
    price_cents: int
    description: str = ""
    variants: tuple[str, ...] = ()
    rules: DemoRules | None = None


@dataclass(frozen=True)
class DemoClosure:
    """An exceptional closing day, placed on the first open day at least `weeks_ahead` weeks
    from the day the demo runs (so it is always in the future, and on a day that matters)."""

    reason: str
    weeks_ahead: int


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
    low_balance_threshold_cents: int | None = None
    closures: tuple[DemoClosure, ...] = ()


@dataclass(frozen=True)
class DemoCommune:
    slug: str
    name: str
    insee_code: str  # decides the calendar (zone, public holidays): tenants.calendar
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
WORKING_DAYS_BEFORE = DeadlineKind.WORKING_DAYS_BEFORE
NOON, NINE, SEVEN, SIX_PM = (datetime.time(h, 0) for h in (12, 9, 7, 18))

# Saint-Marcel: book the whole next week by Thursday noon; cancel up to 2 working days before,
# 9:00; a late cancellation is accepted but not refunded.
SAINT_MARCEL_MEALS = DemoRules(
    booking=DemoDeadline(DeadlineKind.WEEKDAY_BEFORE, weekday=3, time=NOON),
    cancel=DemoDeadline(WORKING_DAYS_BEFORE, days=2, time=NINE),
    late_refund_percent=0,
    qf_brackets=((600, 120), (1000, 260)),
    sibling_reduction_percent=10,
)


def _same_day_childcare(deadline: datetime.time) -> DemoRules:
    """Baneins: book or cancel up to the morning (or noon) of the day; 20 places."""
    same_day = DemoDeadline(DeadlineKind.SAME_DAY, time=deadline)
    return DemoRules(booking=same_day, cancel=same_day, late_refund_percent=None, daily_capacity=20)


LE_PUY_MEALS = DemoRules(
    booking=DemoDeadline(WORKING_DAYS_BEFORE, days=2, time=NOON),
    cancel=DemoDeadline(WORKING_DAYS_BEFORE, days=2, time=NOON),
    late_refund_percent=0,
    daily_capacity=150,
)
LE_PUY_CHILDCARE = DemoRules(
    booking=DemoDeadline(WORKING_DAYS_BEFORE, days=1, time=SIX_PM),
    cancel=DemoDeadline(WORKING_DAYS_BEFORE, days=1, time=SIX_PM),
    late_refund_percent=50,
)
TEACHERS_TRAINING_DAY = DemoClosure("Journée pédagogique : l’école est fermée.", weeks_ahead=5)

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
                        SAINT_MARCEL_MEALS,
                    ),
                ),
                documents=(PROOF_OF_ADDRESS, INSURANCE, QUOTIENT_FAMILIAL),
                low_balance_threshold_cents=1000,
                closures=(TEACHERS_TRAINING_DAY,),
            ),
        ),
        staff_email="agent@saint-marcel-en-dombes.demo.marelle.fr",
    ),
    DemoCommune(
        slug="baneins",
        name="Baneins",
        insee_code="01030",
        colour="#8A3B12",
        services=(
            DemoService(
                kind=ServiceKind.GARDERIE,
                name="Garderie",
                description="Accueil du matin et du soir à l’école.",
                payment_methods=(CARD, WALLET),
                products=(
                    DemoProduct(
                        "Garderie matin",
                        150,
                        "De 7 h 30 au début de la classe.",
                        rules=_same_day_childcare(SEVEN),
                    ),
                    DemoProduct(
                        "Garderie soir",
                        200,
                        "De la fin de la classe à 18 h 30.",
                        rules=_same_day_childcare(NOON),
                    ),
                ),
                documents=(PROOF_OF_ADDRESS, INSURANCE),
                closures=(DemoClosure("Formation des animateurs.", weeks_ahead=6),),
            ),
        ),
        staff_email="agent@baneins.demo.marelle.fr",
    ),
    DemoCommune(
        slug="le-puy-en-velay",
        name="Le Puy-en-Velay",
        insee_code="43157",
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
                        LE_PUY_MEALS,
                    ),
                ),
                documents=(PROOF_OF_ADDRESS, INSURANCE, QUOTIENT_FAMILIAL),
                closures=(
                    DemoClosure("Travaux dans la cuisine centrale : pas de repas.", weeks_ahead=7),
                ),
            ),
            DemoService(
                kind=ServiceKind.PERISCOLAIRE,
                name="Garderie périscolaire",
                description="Accueil avant et après la classe.",
                payment_methods=(CARD, WALLET, DIRECT_DEBIT),
                products=(
                    DemoProduct(
                        "Accueil du matin",
                        120,
                        "De 7 h 30 au début de la classe.",
                        rules=LE_PUY_CHILDCARE,
                    ),
                    DemoProduct(
                        "Accueil du soir",
                        180,
                        "De la fin de la classe à 18 h 30.",
                        rules=LE_PUY_CHILDCARE,
                    ),
                ),
                documents=(PROOF_OF_ADDRESS, INSURANCE, QUOTIENT_FAMILIAL),
                closures=(TEACHERS_TRAINING_DAY,),
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
    commune = connection.tenant  # a loader run inside tenant_context: the one place it is read
    service = Service.objects.filter(name=spec.name).first()
    wanted = {
        "kind": spec.kind,
        "name": spec.name,
        "description": spec.description,
        "payment_methods": list(spec.payment_methods),
        "low_balance_threshold_cents": spec.low_balance_threshold_cents,
    }
    if (
        service is None
        or any(getattr(service, field) != value for field, value in wanted.items())
        or published_service(commune, service.pk) is None
    ):
        service = catalog.save_service(
            commune=commune,
            service=service,
            changes=service_changes(wanted, partial=service is not None),
        )
    products = [
        _ensure_demo_product(commune, service, product_spec) for product_spec in spec.products
    ]
    for document_spec in spec.documents:
        _ensure_demo_document(commune, service, document_spec)
    for closure_spec in spec.closures:
        _ensure_demo_closure(commune, service, products, closure_spec)
    return service


def _ensure_demo_product(commune: Commune, service: Service, spec: DemoProduct) -> Product:
    product = Product.objects.filter(service=service, name=spec.name).first()
    variants = list(spec.variants)
    if (
        product is None
        or product.price_cents != spec.price_cents
        or product.description != spec.description
        or sorted(product.variants.values_list("name", flat=True)) != sorted(variants)
    ):
        data = {
            "name": spec.name,
            "price_cents": spec.price_cents,
            "description": spec.description,
            "variants": variants,
        }
        product = catalog.save_product(
            commune=commune,
            service=service,
            product=product,
            changes=product_changes(data, product=product),
        )
    if spec.rules is not None:
        wanted = spec.rules.as_data()
        if any(getattr(product, field) != value for field, value in wanted.items()):
            catalog.save_booking_rules(
                commune=commune,
                product=product,
                changes=booking_rules_changes(wanted, product=product),
            )
    return product


def _ensure_demo_closure(
    commune: Commune, service: Service, products: list[Product], spec: DemoClosure
) -> None:
    """One upcoming closure with this reason; a later run adds none while it is still ahead."""
    today = timezone.localdate()
    if Closure.objects.filter(service=service, reason=spec.reason, date__gte=today).exists():
        return
    closed = set(Closure.objects.filter(service=service).values_list("date", flat=True))
    calendar = commune_calendar(commune)
    day = today + datetime.timedelta(weeks=spec.weeks_ahead)
    for _ in range(120):  # past the longest school holidays
        if any(
            booking_rules.is_open(
                day,
                weekdays=product.weekdays,
                opening_period=product.opening_period,
                calendar=calendar,
                closures=closed,
            )
            for product in products
        ):
            catalog.add_closure(commune=commune, service=service, day=day, reason=spec.reason)
            return
        day += datetime.timedelta(days=1)


def _ensure_demo_document(commune: Commune, service: Service, spec: DemoDocument) -> None:
    document_type = DocumentType.objects.filter(service=service, code=spec.code).first()
    if document_type is None or (
        document_type.label,
        document_type.help_text,
        document_type.required,
    ) != (spec.label, spec.help_text, spec.required):
        data = {
            "code": spec.code,
            "label": spec.label,
            "help_text": spec.help_text,
            "required": spec.required,
        }
        catalog.save_document_type(
            commune=commune,
            service=service,
            document_type=document_type,
            changes=document_type_changes(data, document_type=document_type),
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
