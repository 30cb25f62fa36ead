"""Who saw or changed what, when: every staff access to a family's data and every decision."""

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    commune = models.ForeignKey(
        "tenants.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=40, blank=True)
    family_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "entrée du journal"
        verbose_name_plural = "journal d’audit"
        indexes = [models.Index(fields=["commune", "-created_at"])]

    def __str__(self) -> str:
        target = f"{self.target_type}#{self.target_id}"
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {target}"
