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
    low_balance_threshold_cents = models.PositiveIntegerField(
        "seuil d’alerte du porte-monnaie (centimes)",
        null=True,
        blank=True,
        help_text="Un e-mail prévient la famille quand son crédit pour ce service passe sous "
        "ce seuil.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="unique_service_name")]

    def __str__(self) -> str:
        return self.name


class OpeningPeriod(models.TextChoices):
    SCHOOL_DAYS = "school", "Jours d’école (hors vacances scolaires)"
    HOLIDAYS = "holidays", "Vacances scolaires uniquement"
    ALL = "all", "Toute l’année"


class UnbookedPresence(models.TextChoices):
    REFUSED = "refused", "Non acceptée"
    BILLED = "billed", "Acceptée et facturée"


class DeadlineKind(models.TextChoices):
    WORKING_DAYS_BEFORE = "working_days_before", "N jours ouvrés avant, à l’heure dite"
    WEEKDAY_BEFORE = "weekday_before", "Le jour de la semaine précédente, à l’heure dite"
    SAME_DAY = "same_day", "Le jour même, avant l’heure dite"


def school_weekdays() -> list[int]:
    return [0, 1, 3, 4]  # Monday, Tuesday, Thursday, Friday


def default_deadline_time():
    import datetime

    return datetime.time(12, 0)


class Product(models.Model):
    """Something a parent books for a day: "Réservation repas cantine", "Garderie matin"…

    It carries the booking rules: when it is open, until when a day can be booked or cancelled,
    what a late cancellation gives back, how many places a day has, and its prices.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="products")
    name = models.CharField("nom", max_length=120)
    description = models.TextField("description", blank=True)
    price_cents = models.PositiveIntegerField("prix (centimes)", default=0)
    is_active = models.BooleanField("actif", default=True)

    weekdays = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name="jours d’ouverture",
        default=school_weekdays,
    )
    opening_period = models.CharField(
        "période", max_length=10, choices=OpeningPeriod.choices, default=OpeningPeriod.SCHOOL_DAYS
    )
    booking_deadline_kind = models.CharField(
        "limite de réservation",
        max_length=20,
        choices=DeadlineKind.choices,
        default=DeadlineKind.WORKING_DAYS_BEFORE,
    )
    booking_deadline_days = models.PositiveSmallIntegerField("nombre de jours", default=2)
    booking_deadline_weekday = models.PositiveSmallIntegerField("jour de la semaine", default=3)
    booking_deadline_time = models.TimeField("heure limite", default=default_deadline_time)
    cancel_deadline_kind = models.CharField(
        "limite d’annulation",
        max_length=20,
        choices=DeadlineKind.choices,
        default=DeadlineKind.WORKING_DAYS_BEFORE,
    )
    cancel_deadline_days = models.PositiveSmallIntegerField("nombre de jours", default=2)
    cancel_deadline_weekday = models.PositiveSmallIntegerField("jour de la semaine", default=3)
    cancel_deadline_time = models.TimeField("heure limite", default=default_deadline_time)
    late_cancellation_refund_percent = models.PositiveSmallIntegerField(
        "remboursement d’une annulation tardive (%)",
        null=True,
        blank=True,
        default=0,
        help_text="0 : annulable sans remboursement ; vide : plus annulable après la limite.",
    )
    daily_capacity = models.PositiveIntegerField("places par jour", null=True, blank=True)
    # [{"max_qf": 700, "price_cents": 250}, …] ascending; a family above every bracket, or whose
    # QF is unknown, pays price_cents.
    qf_brackets = models.JSONField("tarifs par quotient familial", default=list, blank=True)
    sibling_reduction_percent = models.PositiveSmallIntegerField(
        "réduction fratrie (%)",
        default=0,
        help_text="Appliquée à partir du 2e enfant le même jour.",
    )
    # Attendance ("pointage") rules: what follows when an agent marks a child.
    unbooked_presence = models.CharField(
        "présence sans réservation",
        max_length=10,
        choices=UnbookedPresence.choices,
        default=UnbookedPresence.REFUSED,
    )
    unbooked_price_cents = models.PositiveIntegerField(
        "prix d’une présence sans réservation (centimes)",
        null=True,
        blank=True,
        help_text="Vide : le prix du produit.",
    )
    absence_refund_percent = models.PositiveSmallIntegerField(
        "remboursement d’une absence (%)", default=0
    )
    sick_refund_percent = models.PositiveSmallIntegerField(
        "remboursement d’une absence pour maladie avec certificat (%)",
        null=True,
        blank=True,
        help_text="Vide : le certificat médical ne change rien.",
    )

    class Meta:
        ordering = ["service", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="unique_product_name"),
            models.CheckConstraint(
                condition=models.Q(late_cancellation_refund_percent__lte=100)
                | models.Q(late_cancellation_refund_percent__isnull=True),
                name="late_refund_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=models.Q(sibling_reduction_percent__lte=100),
                name="sibling_reduction_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=models.Q(absence_refund_percent__lte=100),
                name="absence_refund_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=models.Q(sick_refund_percent__lte=100)
                | models.Q(sick_refund_percent__isnull=True),
                name="sick_refund_is_a_percentage",
            ),
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


class Closure(models.Model):
    """A day the commune closes a service (strike, teachers' training day, works…)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField("date")
    reason = models.CharField("motif", max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["service", "date"], name="one_closure_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.service} fermé le {self.date:%d/%m/%Y}"
