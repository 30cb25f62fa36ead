"""The commune's cash register ("régie de recettes"): numbered receipts and day closings.

Every counter payment (cash, cheque, transfer) has one Receipt, written in the same database
transaction as its ledger movement (`services.record_counter_credit`): never a receipt without
money, nor money without a receipt. Receipt numbers run per commune (one schema each) and per
calendar year without gaps or duplicates: they are taken from the year's ReceiptCounter row,
locked (SELECT … FOR UPDATE) until the receipt is written, so a rolled-back payment gives its
number back (a PostgreSQL sequence would not). A DayClosing freezes an agent's takings of a
day, or the whole régie's when a manager closes for everyone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.fields import PublicOneToOneRef, PublicRef


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Espèces"
    CHEQUE = "cheque", "Chèque"
    TRANSFER = "transfer", "Virement"


class ReceiptCounter(models.Model):
    """The last receipt number given in a year, in this commune (one row per year)."""

    year = models.PositiveIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "compteur de reçus"

    def __str__(self) -> str:
        return f"Reçus {self.year} : {self.last_number}"


class Receipt(models.Model):
    """A counter payment's receipt; what it shows is copied at payment time (names may change)."""

    number = models.CharField("numéro", max_length=20, unique=True)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    day = models.DateField("date")  # the payment's local date (Europe/Paris)
    created_at = models.DateTimeField()
    ledger_transaction = PublicOneToOneRef("wallet.LedgerTransaction")
    family = PublicRef("families.Family")
    family_name = models.CharField(max_length=300)
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    service_name = models.CharField(max_length=200)
    amount_cents = models.BigIntegerField()
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=60)
    agent = PublicRef(settings.AUTH_USER_MODEL)
    agent_name = models.CharField(max_length=300)

    class Meta:
        verbose_name = "reçu de versement"
        ordering = ["year", "sequence"]
        indexes = [models.Index(fields=["day", "agent"], name="receipt_day_agent")]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="one_receipt_per_number"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="receipt_amount_positive"),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="receipt_method_known"
            ),
        ]

    def __str__(self) -> str:
        return f"Reçu {self.number}"


class DayClosing(models.Model):
    """A day's takings closed: an agent's own (`agent` set) or the whole régie's (`agent` empty,
    by a manager). The totals are frozen here, per method, at closing time."""

    day = models.DateField("journée")
    agent = PublicRef(settings.AUTH_USER_MODEL, null=True, blank=True)
    agent_name = models.CharField(max_length=300, blank=True)
    closed_by = PublicRef(settings.AUTH_USER_MODEL)
    closed_by_name = models.CharField(max_length=300)
    closed_at = models.DateTimeField(auto_now_add=True)
    payments_count = models.PositiveIntegerField()
    total_cents = models.BigIntegerField()
    # {"cash": cents, "cheque": cents, "transfer": cents}
    totals = models.JSONField(default=dict)

    class Meta:
        verbose_name = "clôture de caisse"
        ordering = ["day", "closed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "agent"], nulls_distinct=False, name="one_closing_per_day_and_agent"
            )
        ]

    def __str__(self) -> str:
        return f"Clôture du {self.day:%d/%m/%Y} ({self.agent_name or 'toute la régie'})"
