"""Demo: the Martin family's life in the guide's communes, through the real use cases.

Access requests with documents (accepted by the communes' agents, one still waiting), the
guide's wallet (40,00 € = 20 € Garderie de Baneins + 15 € Cantine de Saint-Marcel-en-Dombes +
5 € tous services), a few upcoming reservations, and two past months of Léa's canteen billed by
direct debit at Saint-Marcel: the older month's invoice paid, the last month's debit rejected by
the bank (the invoice stays to pay). Idempotent.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from demo.builders import enrol_family
from shared_apps.families.selectors import children_of, family_id_of
from shared_apps.wallet.services import credit_top_up
from tenant_apps.billing.services.invoicing import next_month
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
        if Reservation.objects.filter(child_id=lea.pk, date__gte=timezone.localdate()).exists():
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


def _book_past_month(commune, parent, lea, month: datetime.date) -> None:
    """Léa's first three canteen days of `month` booked by direct debit, through the booking
    services with the clock set ten days before the month (when they were bookable)."""
    service = Service.objects.get(name="Cantine")
    product = service.products.filter(is_active=True).order_by("pk").first()
    if product is None:
        return
    then = timezone.make_aware(
        datetime.datetime.combine(month - datetime.timedelta(days=10), datetime.time(9))
    )
    days = booking_selectors.calendar(
        commune=commune,
        user=parent,
        product=product,
        child_id=lea.pk,
        start=month,
        end=next_month(month) - datetime.timedelta(days=1),
        now=then,
    )
    bookable = [d.date for d in days if d.status == "bookable"][:3]
    if not bookable:
        return
    add_to_cart(
        commune=commune,
        user=parent,
        product_id=product.pk,
        child_ids=[lea.pk],
        dates=bookable,
        now=then,
    )
    checkout(commune=commune, user=parent, payment_method="direct_debit", now=then)


def _debit_outcome(commune, invoice, *, succeeded: bool) -> None:
    """Collect `invoice` on the family's mandate and let the bank answer, without the provider:
    the attempt is recorded as `collection.collect_invoice` records it, and the bank's answer is
    a stored provider notification processed by `process_webhook_event`, the code the signed
    webhook runs (so paid = receivables settled in the ledger, rejected = invoice still to pay
    and the family e-mailed)."""
    from shared_apps.payments.models import Payment, Purpose, Scope, WebhookEvent
    from shared_apps.payments.services import process_webhook_event
    from tenant_apps.billing.models import Collection, CollectionMethod, Mandate, MandateStatus

    if Collection.objects.filter(invoice=invoice).exists():
        return
    mandate = Mandate.objects.get(family_id=invoice.family_id, status=MandateStatus.ACTIVE)
    reference = f"pi_demo_{commune.schema_name}_{invoice.pk}"
    with transaction.atomic():
        collection = Collection.objects.create(
            invoice=invoice, mandate=mandate, method=CollectionMethod.SEPA_DEBIT
        )
        metadata = {
            "schema": commune.schema_name,
            "invoice_id": str(invoice.pk),
            "invoice_number": invoice.number,
            "collection_id": str(collection.pk),
        }
        payment = Payment.objects.create(
            family_id=invoice.family_id,
            purpose=Purpose.INVOICE,
            amount_cents=invoice.total_cents,
            scope=Scope.SERVICE,
            commune=commune,
            metadata=metadata,
            provider="stripe",
            provider_ref=reference,
        )
        Collection.objects.filter(pk=collection.pk).update(payment_id=payment.pk)
    intent = {
        "object": "payment_intent",
        "id": reference,
        "amount": invoice.total_cents,
        "currency": "eur",
        "metadata": {**metadata, "payment_id": str(payment.pk), "purpose": Purpose.INVOICE},
    }
    if succeeded:
        kind = "payment_intent.succeeded"
    else:
        kind = "payment_intent.payment_failed"
        intent["last_payment_error"] = {"code": "insufficient_funds"}
    event = WebhookEvent.objects.create(
        event_id=f"evt_demo_{commune.schema_name}_{invoice.pk}",
        provider="stripe",
        type=kind,
        payload={
            "id": f"evt_demo_{commune.schema_name}_{invoice.pk}",
            "type": kind,
            "data": {"object": intent},
        },
        payment_ref=reference,
    )
    process_webhook_event(event_pk=event.pk)


def _ensure_past_invoices(parent) -> None:
    """The month before last invoiced and paid, last month invoiced and its debit rejected, both
    built by `build_invoices` (the monthly run) from bookings made by direct debit."""
    from tenant_apps.billing.models import Invoice
    from tenant_apps.billing.services.invoicing import build_invoices, previous_month

    commune = Commune.objects.get(slug="saint-marcel-en-dombes")
    lea = next(c for c in children_of(parent) if c.first_name == "Léa")
    family_id = family_id_of(parent)
    last = previous_month(timezone.localdate())
    before = previous_month(last)
    with tenant_context(commune):
        _ensure_mandate(parent)
        for month, paid in ((before, True), (last, False)):
            if not Invoice.objects.filter(family_id=family_id, month=month).exists():
                if not Reservation.objects.filter(
                    child_id=lea.pk, date__gte=month, date__lt=next_month(month)
                ).exists():
                    _book_past_month(commune, parent, lea, month)
                build_invoices(commune=commune, month=month)
            invoice = Invoice.objects.filter(family_id=family_id, month=month).first()
            if invoice is not None:
                _debit_outcome(commune, invoice, succeeded=paid)


def load_family_life(parent_email: str, staff_emails: dict[str, str]) -> None:
    User = get_user_model()
    parent = User.objects.get(email=parent_email)
    staff = {slug: User.objects.get(email=email) for slug, email in staff_emails.items()}
    _ensure_requests(parent, staff)
    _ensure_wallet(parent)
    _ensure_reservations(parent)
    _ensure_past_invoices(parent)
