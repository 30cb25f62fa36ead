"""Card payments, the provider's notifications (webhooks) and refunds to the card (public schema).

A Payment only moves forward (see `can_move`); the wallet is credited from a verified provider
notification, never from the browser, once per payment (ledger source key "topup:<pk>").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Purpose(models.TextChoices):
    TOP_UP = "top_up", "Rechargement du porte-monnaie"
    CHECKOUT = "checkout", "Paiement d’une commande"
    INVOICE = "invoice", "Prélèvement d’une facture"


class Scope(models.TextChoices):
    GENERAL = "general", "Tous les services"
    SERVICE = "service", "Un service"


class Provider(models.TextChoices):
    STRIPE = "stripe", "Stripe"


class PaymentStatus(models.TextChoices):
    CREATED = "created", "Créé"
    REQUIRES_ACTION = "requires_action", "Authentification demandée"
    PROCESSING = "processing", "En cours de confirmation"
    SUCCEEDED = "succeeded", "Réussi"
    FAILED = "failed", "Refusé"
    CANCELED = "canceled", "Annulé"


PENDING_STATUSES = (
    PaymentStatus.CREATED,
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.PROCESSING,
)

_RANK = {
    PaymentStatus.CREATED: 0,
    PaymentStatus.REQUIRES_ACTION: 1,
    PaymentStatus.PROCESSING: 2,
    PaymentStatus.FAILED: 3,
    PaymentStatus.SUCCEEDED: 4,
    PaymentStatus.CANCELED: 4,
}


def can_move(current: str, new: str) -> bool:
    """Forward only, so that late or reordered notifications cannot undo anything.

    Succeeded and canceled are final. Failed is final except towards succeeded or canceled: with
    Stripe a declined card leaves the PaymentIntent open, and the parent may retry it at once with
    another card, so money taken after a failure is still credited.
    """
    if current in (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED) or new == current:
        return False
    if current == PaymentStatus.FAILED:
        return new in (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED)
    return _RANK[new] > _RANK[current]


class Payment(models.Model):
    family = models.ForeignKey("families.Family", on_delete=models.PROTECT, related_name="payments")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.TOP_UP)
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="eur")
    # The pocket a top-up credits (general, or one commune's service); for a checkout later, the
    # commune and service paid.
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.GENERAL)
    commune = models.ForeignKey(
        "tenants.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_id = models.BigIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.STRIPE)
    provider_ref = models.CharField(max_length=255, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)  # French, for the parent
    ledger_transaction = models.ForeignKey(
        "wallet.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "paiement par carte"
        verbose_name_plural = "paiements par carte"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["family", "-created_at"], name="payment_family_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payment_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(purpose=Purpose.TOP_UP)
                | Q(scope=Scope.GENERAL, commune__isnull=True, service_id__isnull=True)
                | Q(scope=Scope.SERVICE, commune__isnull=False, service_id__isnull=False),
                name="top_up_pocket_is_general_or_one_service",
            ),
            # A succeeded top-up has credited the wallet, in the same database transaction.
            models.CheckConstraint(
                condition=~Q(purpose=Purpose.TOP_UP, status=PaymentStatus.SUCCEEDED)
                | Q(ledger_transaction__isnull=False),
                name="succeeded_top_up_is_credited",
            ),
        ]

    def __str__(self) -> str:
        return f"Paiement n° {self.pk} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES

    @property
    def can_be_paid(self) -> bool:
        """The parent may still confirm it in the browser (nothing confirmed yet)."""
        return self.status in (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION) and bool(
            self.client_secret
        )


class WebhookEvent(models.Model):
    """A verified notification, stored once per event id before any processing."""

    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.STRIPE)
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    # The provider's payment reference, kept to match the event later if it arrives before we
    # recorded that reference (the provider answers after it has already sent the event).
    payment_ref = models.CharField(max_length=255, blank=True, db_index=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "notification du prestataire"
        verbose_name_plural = "notifications du prestataire"
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "En cours"
    SUCCEEDED = "succeeded", "Remboursé"
    FAILED = "failed", "Refusé"


class Refund(models.Model):
    """Money given back to the card, taken back from the pocket the payment credited."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    provider_ref = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    failure_message = models.CharField(max_length=300, blank=True)
    ledger_transaction = models.ForeignKey(
        "wallet.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "remboursement sur carte"
        verbose_name_plural = "remboursements sur carte"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Remboursement {self.idempotency_key} ({self.get_status_display()})"
