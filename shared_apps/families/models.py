"""The family ("cellule familiale"): guardians and children, shared by every commune."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Relation(models.TextChoices):
    MOTHER = "mother", "Mère"
    FATHER = "father", "Père"
    GUARDIAN = "guardian", "Tuteur·rice"
    OTHER = "other", "Autre"


class Family(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    # The secret of the family's calendar feed (/calendrier/<token>.ics): a random url-safe value
    # the guardians are shown again and again (so kept as is, not hashed); made on first use,
    # replaced when they reset it. Empty until then.
    calendar_feed_token = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = "famille"

    def __str__(self) -> str:
        return f"Famille n° {self.pk}"


class Guardian(models.Model):
    """A person responsible for the family's children; each account belongs to one family."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guardian"
    )
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="guardians")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "responsable légal"

    def __str__(self) -> str:
        return f"{self.user} ({self.family})"


class Child(models.Model):
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="children")
    last_name = models.CharField("nom", max_length=150)
    first_name = models.CharField("prénom", max_length=150)
    birth_date = models.DateField("date de naissance")
    school_class = models.CharField("classe", max_length=40, blank=True)
    notes = models.TextField("information complémentaire", max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Removal keeps the row (communes may hold its history); it just leaves the family's list.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "enfant"
        ordering = ["birth_date", "first_name"]
        constraints = [
            models.UniqueConstraint(
                "family",
                Lower("first_name"),
                Lower("last_name"),
                "birth_date",
                condition=Q(removed_at__isnull=True),
                name="unique_child_per_family",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ChildRelation(models.Model):
    """Who a guardian is to a child (mère, père…): each guardian states their own."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="relations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    relation = models.CharField(max_length=10, choices=Relation.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["child", "user"], name="one_relation_per_guardian")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.child} : {self.get_relation_display()}"


class Invitation(models.Model):
    """An invitation for a second guardian to join the family, by e-mail."""

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Invitation de {self.email} ({self.family})"


class FamilyCommune(models.Model):
    """The communes a family has dealt with: lets cross-commune pages visit only those schemas."""

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="communes")
    commune = models.ForeignKey(
        "tenants.Commune", on_delete=models.CASCADE, related_name="family_links"
    )
    first_seen = models.DateTimeField(auto_now_add=True)
    # Standing consent for the commune's staff to book on the family's behalf, paid from its
    # wallet (the "cagnotte", guide step 7): given by a guardian in "Mes filiations", revocable
    # (null = not given, or revoked). Without it an agent must record the consent obtained
    # (Order.consent_note) for each booking.
    booking_consent_at = models.DateTimeField(null=True, blank=True)
    booking_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["family", "commune"], name="one_link_per_commune")
        ]

    def __str__(self) -> str:
        return f"{self.family} ↔ {self.commune}"
