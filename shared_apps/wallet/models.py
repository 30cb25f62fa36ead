"""The family wallet and the double-entry ledger behind it (public schema).

Every movement of money is a LedgerTransaction with a unique source key and postings that sum
to zero. Each account caches its balance, updated in the same database transaction as the
postings, under row locks; a pocket's balance can never go below zero (database check).

Sign convention: a posting's amount is added to its account's balance. Money entering a pocket
is positive on the pocket and negative on where it came from (card clearing, counter, revenue).

Receivables (post-paid services, direct debit): what a family owes a commune's service is a
`receivable` account of its wallet per (commune, service), seen from the family like its
pockets: a pocket holds the family's money (never below zero), a receivable holds its debt
(never above zero). A day booked by direct debit posts −price on the receivable and +price on
the service's revenue; a cancellation within the deadline posts the reverse; a collected
invoice posts +amount on the receivable and −amount on the direct-debit clearing account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Wallet(models.Model):
    family = models.OneToOneField(
        "families.Family", on_delete=models.PROTECT, related_name="wallet"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "porte-monnaie"

    def __str__(self) -> str:
        return f"Porte-monnaie de la famille n° {self.family_id}"


class AccountKind(models.TextChoices):
    GENERAL_POCKET = "general_pocket", "Crédit tous services"
    SERVICE_POCKET = "service_pocket", "Crédit d’un service"
    CARD_CLEARING = "card_clearing", "Paiements par carte"
    COUNTER = "counter", "Encaissements au guichet"
    REVENUE = "revenue", "Recettes d’un service"
    RECEIVABLE = "receivable", "Dû par la famille (facturé)"
    DEBIT_CLEARING = "debit_clearing", "Prélèvements en cours"


POCKET_KINDS = (AccountKind.GENERAL_POCKET, AccountKind.SERVICE_POCKET)


class Account(models.Model):
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    wallet = models.ForeignKey(
        Wallet, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    commune = models.ForeignKey(
        "tenants.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_id = models.BigIntegerField(null=True, blank=True)
    balance_cents = models.BigIntegerField(default=0)
    allows_negative = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(allows_negative=True) | Q(balance_cents__gte=0),
                name="account_never_negative",
            ),
            models.UniqueConstraint(
                fields=["kind", "wallet", "commune", "service_id"],
                nulls_distinct=False,
                name="one_account_per_scope",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=POCKET_KINDS) | Q(allows_negative=False),
                name="pockets_never_allow_negative",
            ),
            # A family's debt to a service: it may be paid, never overpaid.
            models.CheckConstraint(
                condition=~Q(kind="receivable") | Q(balance_cents__lte=0),
                name="receivable_never_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class TransactionKind(models.TextChoices):
    TOP_UP = "top_up", "Rechargement par carte"
    SPEND = "spend", "Paiement"
    REFUND = "refund", "Remboursement"
    COUNTER_CREDIT = "counter_credit", "Encaissement au guichet"
    CARD_REFUND = "card_refund", "Remboursement sur carte"
    CHARGE = "charge", "Réservation à facturer"
    CHARGE_CREDIT = "charge_credit", "Annulation non facturée"
    COLLECTION = "collection", "Règlement d’une facture"


class LedgerTransaction(models.Model):
    source_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    wallet = models.ForeignKey(
        Wallet, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    commune = models.ForeignKey(
        "tenants.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_id = models.BigIntegerField(null=True, blank=True)
    description = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source_key}"


class Posting(models.Model):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="postings"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="posting_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount_cents:+d}"
