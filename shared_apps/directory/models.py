"""The platform-wide directory of communes' services, kept in the public schema.

Each commune's catalogue lives in its own schema; this copy of each service's public face lets the
home page, "Mes services" and `GET /api/v1/communes` list every commune in one query.
"""

from django.db import models


class PublishedService(models.Model):
    commune = models.ForeignKey(
        "tenants.Commune", on_delete=models.CASCADE, related_name="published_services"
    )
    service_id = models.BigIntegerField()
    kind = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["commune__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["commune", "service_id"], name="one_listing_per_service"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} — {self.commune}"

    @property
    def label(self) -> str:
        """How the guide names a service across communes: "Garderie de Baneins", "Cantine du
        Puy-en-Velay"."""
        from shared_apps.directory.selectors import service_label

        return service_label(self.name, self.commune.name)
