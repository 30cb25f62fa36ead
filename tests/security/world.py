"""One set-up for a whole module of the security suite: two communes, two families, staff.

Commune A has a canteen with every kind of row an address can name (request and document,
reservation, cart item, order, payment, invoice and credit note, mandate, medical certificate,
counter receipt, closure, document type, staff membership and invitation), all of family F;
family G is enrolled in A too; commune B has its own manager and nothing else. Every private
value carries a marker word, so a leak is found by searching the answer for it.

Built once inside a transaction that is rolled back at the end (`module_world` in
tests/security/conftest.py): the isolation matrix is hundreds of requests, not hundreds of
set-ups.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import time_machine
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.api_tokens import issue as issue_api_token
from shared_apps.accounts.models import User
from shared_apps.families.models import Child
from shared_apps.families.services import calendar_feed_token
from shared_apps.payments.models import Payment, Purpose
from tenants.models import Commune, Membership, Role, StaffInvitation
from tests.factories import UserFactory
from tests.fixtures.bookings import NOW, make_family, school_days_product

JANUARY_2ND = datetime.datetime(2027, 1, 2, 6, tzinfo=datetime.UTC)


@dataclass
class Actor:
    """Someone asking: `page` signs in with the session, `api_headers` with a Bearer token."""

    name: str
    user: User | None
    page: Client
    api_headers: dict = field(default_factory=dict)


@dataclass
class World:
    communes: dict[str, Commune]
    actors: dict[str, Actor]
    ids: dict[str, object]  # F's ids in A, by parameter name (see routes.PARAM_KINDS)
    markers: dict[str, tuple[str, ...]]  # what each kind of onlooker must never read


def _actor(name: str, user: User | None) -> Actor:
    page = Client(raise_request_exception=False)
    headers = {}
    if user is not None:
        page.force_login(user)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user, device=name).key}"}
    return Actor(name, user, page, headers)


def _canteen(commune: Commune):
    from tenant_apps.catalog.models import (
        Closure,
        DocumentType,
        Service,
        ServiceKind,
    )

    with tenant_context(commune):
        service = Service.objects.create(
            kind=ServiceKind.CANTINE,
            name="Cantine Zéphyrine",
            payment_methods=["wallet", "card", "direct_debit"],
        )
        product = school_days_product(service, name="Repas Zéphyrine", price_cents=380)
        closure = Closure.objects.create(
            service=service, date=datetime.date(2026, 12, 18), reason="Grève Ornithorynque"
        )
        document_type = DocumentType.objects.create(
            service=service, code="attestation", label="Attestation Kangourou", required=False
        )
    return product, closure, document_type


def build_world() -> World:
    from tenant_apps.billing.models import Invoice
    from tenant_apps.billing.services.credit_notes import issue_credit_note
    from tenant_apps.billing.services.invoicing import build_invoices
    from tenant_apps.bookings.models import CartItem, MedicalCertificate, Order, Reservation
    from tenant_apps.bookings.services.cart import add_to_cart
    from tenant_apps.bookings.services.checkout import checkout
    from tenant_apps.enrollments.models import AccessRequest, Document
    from tests.backoffice.cash_helpers import pay
    from tests.fixtures.billing import give_mandate

    a = Commune.objects.get(slug="commune-a")
    b = Commune.objects.get(slug="commune-b")

    def in_commune(commune):
        return tenant_context(commune)

    manager_a = UserFactory(email="agent.secret@commune-a.example", first_name="Agathe")
    Membership.objects.create(user=manager_a, commune=a, role=Role.MANAGER)
    manager_b = UserFactory(email="agent.secret@commune-b.example", first_name="Bérénice")
    Membership.objects.create(user=manager_b, commune=b, role=Role.MANAGER)
    invitation = StaffInvitation.objects.create(
        commune=a,
        email="recrue.secrete@commune-a.example",
        role=Role.AGENT,
        token_hash="f" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=7),
        invited_by=manager_a,
    )
    product, closure, document_type = _canteen(a)
    with time_machine.travel(NOW, tick=False):
        f = make_family(a, in_commune, product.service, funds_cents=10_000)
        g = make_family(a, in_commune, product.service, children=1, funds_cents=1_000)
        User.objects.filter(pk=f.pk).update(
            first_name="Philomène", last_name="Quincampoix", email="philomene@quincampoix.example"
        )
        Child.objects.filter(pk=f.kids[0].pk).update(first_name="Barnabé")
        User.objects.filter(pk=g.pk).update(first_name="Gaspard", last_name="Tournesol")
        give_mandate(a, f.family.pk, user=f)
        with in_commune(a):
            # December by direct debit (to invoice in January), and one day by the wallet.
            add_to_cart(
                commune=a,
                user=f,
                product_id=product.pk,
                child_ids=[f.kids[0].pk],
                dates=[datetime.date(2026, 12, 8)],
            )
            checkout(commune=a, user=f, payment_method="direct_debit")
            add_to_cart(
                commune=a,
                user=f,
                product_id=product.pk,
                child_ids=[f.kids[1].pk],
                dates=[datetime.date(2026, 12, 10)],
            )
            checkout(commune=a, user=f, payment_method="wallet")
            add_to_cart(
                commune=a,
                user=f,
                product_id=product.pk,
                child_ids=[f.kids[0].pk],
                dates=[datetime.date(2026, 12, 14)],
            )
            reservation = Reservation.objects.filter(child_id=f.kids[0].pk).first()
            certificate = MedicalCertificate.objects.create(
                reservation=reservation,
                file=ContentFile(b"%PDF-1.4 certificat", name="certificat-hippocampe.pdf"),
                original_name="certificat-hippocampe.pdf",
                content_type="application/pdf",
                size=20,
                uploaded_by=f,
            )
            item = CartItem.objects.filter(cart__family_id=f.family.pk).first()
            order = Order.objects.filter(family_id=f.family.pk).first()
            request = AccessRequest.objects.filter(family_id=f.family.pk).first()
            document = Document.objects.filter(access_request=request).first()
    receipt = pay(a, in_commune, manager_a, f, product.service, 2_500, "cash", "REF-Ornicar")
    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(a):
        build_invoices(commune=a, month=datetime.date(2026, 12, 1))
        invoice = Invoice.objects.get(family_id=f.family.pk)
        note = issue_credit_note(
            commune=a,
            staff_user=manager_a,
            invoice_id=invoice.pk,
            amount=100,
            reason="Repas Ornithorynque non servi",
        )
    payment = Payment.objects.create(
        family=f.family, created_by=f, purpose=Purpose.TOP_UP, amount_cents=2_000
    )
    operator = UserFactory(is_operator=True, is_staff=True, is_superuser=True)
    ids = {
        "commune_slug": "commune-a",
        "child_id": f.kids[0].pk,
        "request_id": request.pk,
        "document_id": document.pk,
        "reservation_id": reservation.pk,
        "item_id": item.pk,
        "order_id": order.pk,
        "payment_id": payment.pk,
        "invoice_id": invoice.pk,
        "mandate_id": give_mandate(a, f.family.pk).pk,
        "note_id": note.pk,
        "certificate_id": certificate.pk,
        "family_id": f.family.pk,
        "product_id": product.pk,
        "service_id": product.service.pk,
        "closure_id": closure.pk,
        "document_type_id": document_type.pk,
        "membership_id": Membership.objects.get(user=manager_a).pk,
        "invitation_id": invitation.pk,
        "receipt_id": receipt.receipt.pk,
        "commune_id": a.pk,
        "year": 2026,
        "token": "x",
    }
    markers = {
        # F's own data: another family, another commune's staff, anonymous visitors never see it.
        "family_f": (
            "Philomène",
            "Quincampoix",
            "philomene@quincampoix.example",
            "Barnabé",
            calendar_feed_token(user=f),
        ),
        "family_g": ("Gaspard", "Tournesol"),
        # Rows of commune A (catalogue, invoice, certificate, receipt): never read from B.
        "rows_of_a": (
            "Zéphyrine",
            "Ornithorynque",
            "Kangourou",
            "Ornicar",
            "certificat-hippocampe",
            invoice.number,
        ),
        # A's back-office: its team and its invitations.
        "staff_of_a": ("agent.secret@commune-a", "recrue.secrete", "Ornicar"),
        "staff_of_b": ("agent.secret@commune-b",),
    }
    actors = {
        "anonymous": _actor("anonymous", None),
        "parent_f": _actor("parent_f", f),
        "parent_g": _actor("parent_g", g),
        "manager_a": _actor("manager_a", manager_a),
        "manager_b": _actor("manager_b", manager_b),
        "operator": _actor("operator", operator),
    }
    from shared_apps.accounts.models import ApiToken

    ids["token_id"] = ApiToken.objects.get(user=f, device="parent_f").pk
    return World(
        communes={"a": a, "b": b},
        actors=actors,
        ids=ids,
        markers=markers,
    )
