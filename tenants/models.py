"""The commune (one PostgreSQL schema each), its domains and its staff memberships."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from tenants.calendar import SCHOOL_ZONE_LABELS, UnservedPlace, place_of

insee_code_validator = RegexValidator(
    r"^(\d{5}|2[AB]\d{3})$", "Le code INSEE compte 5 caractères (ex. 01385 ou 2A004)."
)
colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "La couleur s’écrit #RRVVBB (ex. #1F5FAD).")


# The school-holiday zones Marelle knows (tenants.calendar.SCHOOL_ZONE_LABELS). A commune's zone
# is derived from its INSEE code at creation (tenants.services.create_commune), never typed.
HolidayZone = models.TextChoices(
    "HolidayZone", [(code, (code, label)) for code, label in SCHOOL_ZONE_LABELS.items()]
)


class Commune(TenantMixin):
    name = models.CharField("nom", max_length=120)
    slug = models.SlugField("identifiant d’adresse", max_length=50, unique=True)
    insee_code = models.CharField(
        "code INSEE", max_length=5, blank=True, validators=[insee_code_validator]
    )
    holiday_zone = models.CharField(
        "zone de vacances scolaires",
        max_length=30,
        choices=HolidayZone.choices,
        blank=True,
        help_text="Déduite du code INSEE (département → académie).",
    )
    contact_email = models.EmailField("e-mail de contact", blank=True)
    brand_colour = models.CharField(
        "couleur", max_length=7, default="#1F5FAD", validators=[colour_validator]
    )
    logo = models.ImageField("logo", upload_to="logos/", blank=True)
    is_active = models.BooleanField("active", default=True)
    accepts_general_credit = models.BooleanField(
        "accepte le crédit « tous services »",
        default=True,
        help_text="Décochez si le comptable public impose que seuls les crédits de la commune "
        "paient ses services.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Suspended by an operator (tenants.services.suspend_commune): still served, its pages say so,
    # but it takes no booking and moves no money until resumed. `is_active` (closed: no longer
    # served at all) is another, older switch and keeps its meaning.
    suspended_at = models.DateTimeField("suspendue le", null=True, blank=True)
    suspension_reason = models.CharField("motif de la suspension", max_length=300, blank=True)

    # New schemas are cloned from settings.TENANT_BASE_SCHEMA, which holds no rows of its own.
    auto_create_schema = True
    clone_mode = "DATA"

    class Meta:
        ordering = ["name"]
        verbose_name = "commune"

    def __str__(self) -> str:
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    def clean(self) -> None:
        """The zone must be the one the INSEE code gives (tenants.calendar.place_of)."""
        super().clean()
        if not self.insee_code or not self.holiday_zone:
            return
        try:
            zone = place_of(self.insee_code).school_zone
        except UnservedPlace as exc:
            raise ValidationError({"insee_code": exc.message}) from exc
        if zone != self.holiday_zone:
            raise ValidationError(
                {"holiday_zone": f"Le code INSEE {self.insee_code} est en zone {zone}."}
            )


class Domain(DomainMixin):
    """A commune's own host name, for later; the platform routes by path (/c/<slug>/)."""


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    MANAGER = "manager", "Responsable"


class Membership(models.Model):
    """A staff member's rights in one commune. Checked on every commune staff view."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("rôle", max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "commune"], name="one_membership_per_commune")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.commune} ({self.get_role_display()})"


class StaffInvitation(models.Model):
    """A manager's invitation for someone to join the commune's staff, by e-mail.

    Only the SHA-256 of the link's token is kept (the link is the credential); it expires
    (INVITATION_DAYS) and serves once (`accepted_at`); tenant_apps.backoffice.services_staff
    decides.
    """

    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField("rôle", max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["commune", "email"])]

    def __str__(self) -> str:
        return f"Invitation de {self.email} — {self.commune} ({self.get_role_display()})"
