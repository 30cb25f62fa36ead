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
