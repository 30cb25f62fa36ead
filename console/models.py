"""The operators' console keeps one health snapshot per commune (public schema).

Its figures come from the commune's own schema (bookings) and from the public apps (families,
wallet, audit); reading 1,000 schemas on every view of the communes list would not do, so a
periodic, idempotent task (console.health.refresh_health, Celery beat) writes one row per
commune, and an operator may refresh one commune on demand. The page shows the row's age.
"""

from __future__ import annotations

from django.db import models


class CommuneHealth(models.Model):
    commune = models.OneToOneField(
        "tenants.Commune", on_delete=models.CASCADE, related_name="health", primary_key=True
    )
    families = models.PositiveIntegerField("familles", default=0)
    bookings_this_week = models.PositiveIntegerField("réservations de la semaine", default=0)
    week_start = models.DateField("semaine du", null=True)
    pockets_cents = models.BigIntegerField("crédits des familles (centimes)", default=0)
    last_activity_at = models.DateTimeField("dernière activité", null=True)
    computed_at = models.DateTimeField("calculé le")

    class Meta:
        verbose_name = "santé d’une commune"
        verbose_name_plural = "santé des communes"

    def __str__(self) -> str:
        return f"Santé de la commune n° {self.commune_id} au {self.computed_at:%Y-%m-%d %H:%M}"
