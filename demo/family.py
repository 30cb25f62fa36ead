"""Demo: the Martin family's life in the guide's communes, through the real use cases.

Access requests with documents (accepted by the communes' agents, one still waiting), the
guide's wallet (40,00 € = 20 € Garderie de Baneins + 15 € Cantine de Saint-Marcel-en-Dombes +
5 € tous services) and a few upcoming reservations. Idempotent.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import tenant_context

from demo.builders import enrol_family
from shared_apps.families.selectors import children_of, family_id_of
from shared_apps.wallet.services import credit_top_up
from tenant_apps.bookings import selectors as booking_selectors
from tenant_apps.bookings.models import Reservation
from tenant_apps.bookings.services.cart import add_to_cart
from tenant_apps.bookings.services.checkout import checkout
from tenant_apps.catalog.models import Service
from tenant_apps.enrollments.models import AccessRequest
from tenants.models import Commune

# (commune slug, service name, children's first names, accepted?)
REQUESTS = (
    ("saint-marcel-en-dombes", "Cantine", ("Léa", "Hugo"), True),
    ("baneins", "Garderie", ("Hugo",), True),
    ("le-puy-en-velay", "Cantine", ("Léa",), False),
)
# The guide's example: (commune slug or None for "tous services", service name, euros)
WALLET = (("baneins", "Garderie", 20), ("saint-marcel-en-dombes", "Cantine", 15), (None, None, 5))


def _ensure_requests(parent, staff_by_slug: dict) -> None:
    family_id = family_id_of(parent)
    kids = {child.first_name: child for child in children_of(parent)}
    for slug, service_name, names, accept in REQUESTS:
        commune = Commune.objects.get(slug=slug)
        with tenant_context(commune):
            service = Service.objects.filter(name=service_name).first()
            if (
                service is None
                or AccessRequest.objects.filter(family_id=family_id, service=service).exists()
            ):
                continue
            enrol_family(
                commune=commune,
                service=service,
                parent=parent,
                children=[kids[name] for name in names],
                decided_by=staff_by_slug[slug] if accept else None,
            )


def _ensure_wallet(parent) -> None:
    family_id = family_id_of(parent)
    for slug, service_name, euros in WALLET:
        commune, service_id = None, None
        if slug:
            commune = Commune.objects.get(slug=slug)
            with tenant_context(commune):
                service_id = Service.objects.get(name=service_name).pk
        credit_top_up(
            source_key=f"demo:{family_id}:{slug or 'general'}",
            family_id=family_id,
            commune=commune,
            service_id=service_id,
            amount_cents=euros * 100,
            description="Rechargement par carte bancaire (démo)",
        )


def _ensure_reservations(parent) -> None:
    """Léa eats at the canteen of Saint-Marcel on the next bookable days (billed monthly)."""
    commune = Commune.objects.get(slug="saint-marcel-en-dombes")
    lea = next(c for c in children_of(parent) if c.first_name == "Léa")
    with tenant_context(commune):
        if Reservation.objects.filter(child_id=lea.pk).exists():
            return
        service = Service.objects.get(name="Cantine")
        product = service.products.filter(is_active=True).order_by("pk").first()
        if product is None or "direct_debit" not in service.payment_methods:
            return
        today = timezone.localdate()
        days = booking_selectors.calendar(
            commune=commune,
            user=parent,
            product=product,
            child_id=lea.pk,
            start=today,
            end=today + datetime.timedelta(days=60),
        )
        bookable = [d.date for d in days if d.status == "bookable"][:3]
        if not bookable:
            return
        add_to_cart(
            commune=commune, user=parent, product_id=product.pk, child_ids=[lea.pk], dates=bookable
        )
        _ensure_mandate(parent)
        checkout(commune=commune, user=parent, payment_method="direct_debit")


def _ensure_mandate(parent) -> None:
    """Direct debit needs the family's SEPA mandate with the commune (billing.models): the demo
    family's is recorded as signed (a test IBAN ending 2606), on the current schema."""
    from tenant_apps.billing.models import Mandate, MandateStatus

    family_id = family_id_of(parent)
    if not Mandate.objects.filter(family_id=family_id, status=MandateStatus.ACTIVE).exists():
        Mandate.objects.create(
            family_id=family_id,
            created_by=parent,
            status=MandateStatus.ACTIVE,
            payment_method_ref="pm_demo_sepa",
            iban_last4="2606",
            country="FR",
            mandate_reference="DEMO-MANDAT-1",
            activated_at=timezone.now(),
        )


def load_family_life(parent_email: str, staff_emails: dict[str, str]) -> None:
    User = get_user_model()
    parent = User.objects.get(email=parent_email)
    staff = {slug: User.objects.get(email=email) for slug, email in staff_emails.items()}
    _ensure_requests(parent, staff)
    _ensure_wallet(parent)
    _ensure_reservations(parent)
