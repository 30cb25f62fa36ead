"""A commune's catalogue: services, their bookable products, required documents, payment methods.

Lives in each commune's own schema.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class ServiceKind(models.TextChoices):
    CANTINE = "cantine", "Cantine"
    GARDERIE = "garderie", "Garderie"
    PERISCOLAIRE = "periscolaire", "Périscolaire"
    CENTRE_LOISIRS = "centre_loisirs", "Centre de loisirs"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Carte bancaire"
    WALLET = "wallet", "Porte-monnaie"
    DIRECT_DEBIT = "direct_debit", "Prélèvement"


class FileFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"


def all_payment_methods() -> list[str]:
    return [PaymentMethod.CARD, PaymentMethod.WALLET]


def all_formats() -> list[str]:
    return list(FileFormat.values)


class Service(models.Model):
    kind = models.CharField("type", max_length=20, choices=ServiceKind.choices)
    name = models.CharField("nom", max_length=120)
    description = models.TextField("description", blank=True)
    is_active = models.BooleanField("actif", default=True)
    payment_methods = ArrayField(
        models.CharField(max_length=20, choices=PaymentMethod.choices),
        verbose_name="moyens de paiement acceptés",
        default=all_payment_methods,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="unique_service_name")]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """Something a parent books for a day: "Réservation repas cantine", "Garderie matin"…"""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="products")
    name = models.CharField("nom", max_length=120)
    description = models.TextField("description", blank=True)
    price_cents = models.PositiveIntegerField("prix (centimes)", default=0)
    is_active = models.BooleanField("actif", default=True)

    class Meta:
        ordering = ["service", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="unique_product_name")
        ]

    def __str__(self) -> str:
        return self.name


class MealVariant(models.Model):
    """A meal option of a product (standard, sans viande, panier repas PAI…)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField("nom", max_length=80)

    class Meta:
        ordering = ["product", "name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="unique_variant_name")
        ]

    def __str__(self) -> str:
        return self.name


class DocumentType(models.Model):
    """A supporting document ("pièce justificative") a service asks for."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="document_types")
    code = models.SlugField("code", max_length=40)
    label = models.CharField("intitulé", max_length=120)
    help_text = models.CharField("aide", max_length=300, blank=True)
    required = models.BooleanField("obligatoire", default=True)
    accepted_formats = ArrayField(
        models.CharField(max_length=10, choices=FileFormat.choices),
        verbose_name="formats acceptés",
        default=all_formats,
    )

    class Meta:
        ordering = ["service", "-required", "label"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="unique_document_code")
        ]

    def __str__(self) -> str:
        return self.label
