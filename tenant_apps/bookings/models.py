"""Carts, orders and reservations of a commune's products (one schema per commune).

Families, children and users are public-schema rows referenced without database constraints.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenant_apps.catalog.models import MealVariant, Product
from tenants.fields import PublicOneToOneRef, PublicRef

LIVE_STATUSES = ("booked", "attended", "absent")


class PaymentChoice(models.TextChoices):
    WALLET = "wallet", "Porte-monnaie"
    CARD = "card", "Carte bancaire"
    DIRECT_DEBIT = "direct_debit", "Prélèvement (facture mensuelle)"


class Cart(models.Model):
    family = PublicOneToOneRef("families.Family")
    expires_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Panier de la famille {self.family_id}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    child = PublicRef("families.Child")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(
        MealVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date = models.DateField()
    price_cents = models.PositiveIntegerField()

    class Meta:
        ordering = ["date", "child_id", "product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "child", "product", "date"], name="one_cart_item_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.date} enfant {self.child_id}"


class OrderStatus(models.TextChoices):
    PAID = "paid", "Payée"
    AWAITING_PAYMENT = "awaiting_payment", "En attente du paiement"
    TO_INVOICE = "to_invoice", "Prélèvement : facture mensuelle"
    FAILED = "failed", "Paiement refusé"


class Order(models.Model):
    family = PublicRef("families.Family")
    placed_by = PublicRef(settings.AUTH_USER_MODEL)
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    payment_method = models.CharField(max_length=20, choices=PaymentChoice.choices)
    amount_cents = models.PositiveIntegerField()
    wallet_cents = models.PositiveIntegerField(default=0)
    card_cents = models.PositiveIntegerField(default=0)
    payment_id = models.BigIntegerField(null=True, blank=True)  # public payments.Payment
    # {service_id: cents} paid by card, the rest of each service's share coming from the wallet.
    card_by_service = models.JSONField(default=dict, blank=True)
    on_behalf = models.BooleanField(default=False)
    consent_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Commande n° {self.pk}"


class ReservationStatus(models.TextChoices):
    BOOKED = "booked", "Réservé"
    CANCELLED = "cancelled", "Annulé"
    ATTENDED = "attended", "Présent"
    ABSENT = "absent", "Absent"


class Reservation(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="reservations")
    family = PublicRef("families.Family")
    child = PublicRef("families.Child")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations")
    variant = models.ForeignKey(
        MealVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date = models.DateField(db_index=True)
    price_cents = models.PositiveIntegerField()  # what this place was sold for
    # The two prices the rules chose between (quotient familial applied), kept so a cancellation
    # settles the family's day with the prices it was sold at (rules.day_price).
    full_price_cents = models.PositiveIntegerField(default=0)
    sibling_price_cents = models.PositiveIntegerField(default=0)
    paid_by = models.CharField(max_length=20, choices=PaymentChoice.choices)
    status = models.CharField(
        max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.BOOKED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = PublicRef(settings.AUTH_USER_MODEL, null=True, blank=True)
    refund_cents = models.PositiveIntegerField(default=0)
    late_fee_cents = models.PositiveIntegerField(default=0)  # kept by a late cancellation
    # Attendance ("pointage", services.attendance): the last marking, whether the child came
    # unbooked (billed at the product's unbooked price), and what an absence gave back: to the
    # pocket (wallet, card) or off the invoice (direct debit). A refund taken back after a
    # correction that the pocket could not cover is due on the next invoice.
    marked_at = models.DateTimeField(null=True, blank=True)
    marked_by = PublicRef(settings.AUTH_USER_MODEL, null=True, blank=True)
    added_at_attendance = models.BooleanField(default=False)
    attendance_refund_cents = models.PositiveIntegerField(default=0)
    attendance_due_cents = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["date", "child_id", "product_id"]
        constraints = [
            # A child has one live reservation per product and day; a cancelled day can be
            # booked again.
            models.UniqueConstraint(
                fields=["child", "product", "date"],
                condition=Q(status__in=LIVE_STATUSES),
                name="one_live_reservation_per_child_day",
            ),
            models.CheckConstraint(
                condition=Q(refund_cents__lte=models.F("price_cents")), name="refund_within_price"
            ),
            models.CheckConstraint(
                condition=Q(refund_cents__lte=models.F("price_cents") - models.F("late_fee_cents")),
                name="refund_and_fee_within_price",
            ),
            models.CheckConstraint(
                condition=Q(attendance_refund_cents__lte=models.F("price_cents")),
                name="attendance_refund_within_price",
            ),
        ]
        indexes = [models.Index(fields=["family", "date"])]

    def __str__(self) -> str:
        return f"{self.product} {self.date} enfant {self.child_id} ({self.status})"


class AttendanceMark(models.Model):
    """One change of a reservation's attendance (who, when, before/after) and the money it
    moved: positive given back to the family, negative billed or taken back. Its id names the
    ledger movement (ledger_keys.attendance), so a movement is posted once per change."""

    reservation = models.ForeignKey(Reservation, on_delete=models.PROTECT, related_name="marks")
    before = models.CharField(max_length=10, blank=True)  # "" : the child came unbooked
    after = models.CharField(max_length=10)
    reason = models.CharField(max_length=20)  # marking, correction, unbooked, certificate
    marked_by = PublicRef(settings.AUTH_USER_MODEL)
    marked_at = models.DateTimeField(auto_now_add=True)
    money_cents = models.IntegerField(default=0)
    due_cents = models.IntegerField(default=0)  # change of what is due on the next invoice

    class Meta:
        ordering = ["marked_at", "pk"]

    def __str__(self) -> str:
        return f"Pointage {self.reservation_id} : {self.before or '—'} → {self.after}"


def certificate_path(instance: MedicalCertificate, filename: str) -> str:
    # Never the parent's file name: a random one, under the commune's own folder (the storage
    # prefixes it with the schema name), as enrollments documents.
    return f"certificats/{uuid.uuid4().hex}.{instance.extension}"


class MedicalCertificate(models.Model):
    """A medical certificate for a child's absence: staff and the child's family only."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.PROTECT, related_name="certificates"
    )
    file = models.FileField(upload_to=certificate_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = PublicRef(settings.AUTH_USER_MODEL)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"Certificat médical (réservation {self.reservation_id})"

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
            self.content_type, "bin"
        )


class DayCount(models.Model):
    """Places taken per product and day: the row that capacity checks lock."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    booked = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "date"], name="one_count_per_product_day"),
            models.CheckConstraint(condition=Q(booked__gte=0), name="count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.date}: {self.booked}"
