"""Post-paid services of one commune (its schema): SEPA Direct Debit mandates, monthly invoices.

Why a mandate per family *and commune*, not one per family for the platform: in a SEPA Direct
Debit the mandate authorises one **creditor** (identified by its SEPA Creditor Identifier, ICS)
to debit the account. The creditor of a canteen or after-school club is the commune — its régie
or its public accountant, who collects in its own name — not Marelle, which only operates the
portal. A mandate signed for the platform would have a creditor that is never paid, and one
commune could debit on the strength of a consent given to another. So each commune holds its own
mandates, in its own schema, revocable there without touching the family's other communes;
when a commune has its own Stripe account (Connect) or moves to PayFiP, its mandates move with
it. The family keeps one wallet and one account; only the authorisation to debit is per commune.

Families and users are public-schema rows referenced without database constraints.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.fields import PublicRef


class MandateStatus(models.TextChoices):
    PENDING = "pending", "En attente de confirmation"
    ACTIVE = "active", "Actif"
    FAILED = "failed", "Refusé"
    REVOKED = "revoked", "Révoqué"
    REPLACED = "replaced", "Remplacé"


# Forward only: a pending set-up becomes active or failed; an active mandate is revoked by the
# family or replaced by a newer one; nothing comes back to life.
MANDATE_MOVES = {
    MandateStatus.PENDING: {MandateStatus.ACTIVE, MandateStatus.FAILED, MandateStatus.REVOKED},
    MandateStatus.ACTIVE: {MandateStatus.REVOKED, MandateStatus.REPLACED},
}


class Mandate(models.Model):
    """A family's authorisation for this commune to debit its bank account (SEPA Core).

    Set up through the provider (Stripe SetupIntent `sepa_debit`); its state is recorded from
    the provider's answer read server-side (return page, or signed webhook), never from the
    browser. At most one active mandate per family in a commune.
    """

    family = PublicRef("families.Family")
    created_by = PublicRef(settings.AUTH_USER_MODEL, null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=MandateStatus.choices, default=MandateStatus.PENDING
    )
    provider = models.CharField(max_length=20, default="stripe")
    setup_ref = models.CharField(max_length=255, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    customer_ref = models.CharField(max_length=255, blank=True)
    payment_method_ref = models.CharField(max_length=255, blank=True)
    iban_last4 = models.CharField(max_length=4, blank=True)
    bank_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    mandate_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # revoked, replaced or failed
    ended_by = PublicRef(settings.AUTH_USER_MODEL, null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["family"],
                condition=Q(status="active"),
                name="one_active_mandate_per_family",
            ),
            models.CheckConstraint(
                condition=Q(status__in=MandateStatus.values), name="mandate_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="active")
                | (Q(activated_at__isnull=False) & ~Q(payment_method_ref="")),
                name="active_mandate_has_a_method",
            ),
        ]

    def __str__(self) -> str:
        return f"Mandat n° {self.pk} ({self.get_status_display()})"

    @property
    def masked_iban(self) -> str:
        """FR•• •••• … 1234: the country and last four digits only."""
        return f"{self.country or '••'}•• •••• •••• •••• •••• {self.iban_last4}"


class InvoiceRun(models.Model):
    """One invoicing of one month in this commune: the unique month makes a second run (a
    retried or doubled beat task, a manager's click) find this one and invoice nothing again."""

    month = models.DateField(unique=True)  # the month's first day
    started_at = models.DateTimeField(auto_now_add=True)
    invoices_count = models.PositiveIntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__day=1), name="invoice_run_month_is_its_first_day"
            )
        ]

    def __str__(self) -> str:
        return f"Facturation de {self.month:%m/%Y}"


class InvoiceCounter(models.Model):
    """The commune's last invoice number: one row, locked FOR UPDATE by whoever numbers an
    invoice, in the transaction that writes it (no gap, no duplicate: a rolled-back numbering
    rolls back the counter with it)."""

    name = models.CharField(max_length=20, unique=True, default="invoice")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_number}"


class Invoice(models.Model):
    """A family's invoice for a month's days booked by direct debit. Issued once, never changed:
    its lines and amounts are written with it and `save` refuses any later update."""

    number = models.CharField(max_length=20, unique=True)  # "2026-12-000042"
    sequence = models.PositiveIntegerField(unique=True)  # 42: the counter's value
    run = models.ForeignKey(InvoiceRun, on_delete=models.PROTECT, related_name="invoices")
    family = PublicRef("families.Family")
    month = models.DateField()
    issued_at = models.DateTimeField()
    total_cents = models.IntegerField()
    # Who it is addressed to, as known on the day it was issued (public rows may change later).
    addressee = models.CharField(max_length=300)
    address = models.TextField(blank=True)

    class Meta:
        ordering = ["-month", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "month"], name="one_invoice_per_family_month"
            ),
            models.CheckConstraint(condition=Q(total_cents__gt=0), name="invoice_total_positive"),
        ]

    def __str__(self) -> str:
        return f"Facture {self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("an issued invoice never changes: issue a credit note instead")
        super().save(*args, **kwargs)


class LineKind(models.TextChoices):
    CHARGE = "charge", "Réservation"
    CREDIT = "credit", "Annulation (non facturée)"


class InvoiceLine(models.Model):
    """One child's day of one product, or the credit of its cancellation. A reservation is
    invoiced once: (reservation, kind) is unique across every invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=10, choices=LineKind.choices)
    reservation_id = models.BigIntegerField()  # bookings.Reservation of this schema
    child_id = models.BigIntegerField()
    child_name = models.CharField(max_length=300)
    date = models.DateField()
    product_name = models.CharField(max_length=200)
    service_id = models.BigIntegerField()
    label = models.CharField(max_length=300)
    amount_cents = models.IntegerField()  # positive for a charge, negative for a credit

    class Meta:
        ordering = ["child_name", "date", "product_name", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation_id", "kind"], name="a_reservation_is_invoiced_once"
            ),
            models.CheckConstraint(
                condition=(Q(kind="charge") & Q(amount_cents__gt=0))
                | (Q(kind="credit") & Q(amount_cents__lt=0)),
                name="invoice_line_sign_follows_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.amount_cents}"


class CollectionMethod(models.TextChoices):
    SEPA_DEBIT = "sepa_debit", "Prélèvement SEPA"
    CARD = "card", "Carte bancaire"
    WALLET = "wallet", "Porte-monnaie"


class Collection(models.Model):
    """One attempt to collect an invoice: a debit on the family's mandate or a card payment —
    a public payments.Payment (purpose "invoice") whose state moves only by signed
    notifications, forward only — or the wallet (paid at once, in the ledger). An invoice has
    at most one attempt pending or succeeded (checked under the invoice's row lock)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="collections")
    method = models.CharField(
        max_length=12, choices=CollectionMethod.choices, default=CollectionMethod.SEPA_DEBIT
    )
    mandate = models.ForeignKey(
        Mandate, null=True, blank=True, on_delete=models.PROTECT, related_name="collections"
    )
    payment_id = models.BigIntegerField(unique=True, null=True, blank=True)  # payments.Payment
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(method="sepa_debit") | Q(mandate__isnull=False),
                name="a_debit_has_its_mandate",
            ),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(method="wallet"),
                name="an_invoice_is_paid_from_the_wallet_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Prélèvement de la facture {self.invoice_id} (paiement {self.payment_id})"


class CreditDestination(models.TextChoices):
    RECEIVABLE = "receivable", "Déduit de la somme à payer"
    WALLET = "wallet", "Remboursé sur le porte-monnaie"


class CreditNote(models.Model):
    """An avoir: part or all of an issued invoice taken back, with its reason. The invoice itself
    never changes; what remains to pay is its total less its credit notes.

    Numbered in its own gapless series of the commune ("AV-2026-000001": the year issued, then
    the commune's credit-note sequence, from the "credit_note" counter row, locked like the
    invoices'): a distinct prefix makes an avoir impossible to mistake for a facture, and each
    series stays continuous and chronological as the CGI requires of invoice numbers (art. 242
    nonies A, I-7° de l'annexe II; the administration admits distinct series, BOI-TVA-DECLA-30-20-
    20-10). `amounts` is the credit's share per service ({service id: cents}), which is what the
    ledger moved."""

    number = models.CharField(max_length=20, unique=True)
    sequence = models.PositiveIntegerField(unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    family = PublicRef("families.Family")
    amount_cents = models.IntegerField()
    amounts = models.JSONField(default=dict)
    reason = models.CharField(max_length=500)
    destination = models.CharField(max_length=12, choices=CreditDestination.choices)
    issued_at = models.DateTimeField()
    issued_by = PublicRef(settings.AUTH_USER_MODEL, null=True, blank=True)

    class Meta:
        ordering = ["-sequence"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="credit_note_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Avoir {self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("an issued credit note never changes")
        super().save(*args, **kwargs)
