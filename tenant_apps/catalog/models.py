"""A commune's services (cantine, garderie…). Lives in each commune's own schema."""

from django.db import models


class ServiceKind(models.TextChoices):
    CANTINE = "cantine", "Cantine"
    GARDERIE = "garderie", "Garderie"
    PERISCOLAIRE = "periscolaire", "Périscolaire"
    CENTRE_LOISIRS = "centre_loisirs", "Centre de loisirs"


class Service(models.Model):
    kind = models.CharField("type", max_length=20, choices=ServiceKind.choices)
    name = models.CharField("nom", max_length=120)
    description = models.TextField("description", blank=True)
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="unique_service_name")]

    def __str__(self) -> str:
        return self.name
