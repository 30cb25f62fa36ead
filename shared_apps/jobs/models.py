"""Scheduled jobs (public schema): one JobRun per task run, the notices already sent (so a job
run twice mails nobody twice) and the parents' choice about reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    RUNNING = "running", "En cours"
    SUCCEEDED = "succeeded", "Réussie"
    FAILED = "failed", "Échouée"
    RETRYING = "retrying", "Nouvel essai prévu"


class JobRun(models.Model):
    """One run of a scheduled task (all its attempts): who, where, how it ended.

    The error is the exception's class and a scrubbed message (no e-mail address, no
    database detail line): operators read it, so it never carries personal data.
    """

    task_id = models.CharField(max_length=255, unique=True)
    task_name = models.CharField("tâche", max_length=200, db_index=True)
    commune = models.ForeignKey(
        "tenants.Commune",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="job_runs",
        verbose_name="commune",
    )
    schema_name = models.CharField(max_length=63, blank=True)
    status = models.CharField(
        "état", max_length=10, choices=JobStatus.choices, default=JobStatus.RUNNING
    )
    attempts = models.PositiveSmallIntegerField("essais", default=1)
    started_at = models.DateTimeField("commencée le", db_index=True)
    finished_at = models.DateTimeField("finie le", null=True, blank=True)
    error_class = models.CharField("erreur", max_length=200, blank=True)
    error_message = models.TextField("message", blank=True)
    # Findings of a check (ledger, reconciliation): short lines of ids and amounts, no names.
    details = models.JSONField("constats", default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["status", "started_at"])]
        verbose_name = "exécution de tâche"
        verbose_name_plural = "exécutions de tâches"

    def __str__(self) -> str:
        return f"{self.task_name} ({self.get_status_display()})"


class SentNotice(models.Model):
    """A notice already sent: `kind` + `key` (+ the commune) is unique, so a job run twice, or
    two workers at once, send it once. A low-balance notice's row is removed when the pocket
    goes back above its threshold, so the next crossing is told again."""

    kind = models.CharField(max_length=40)
    commune = models.ForeignKey(
        "tenants.Commune", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=200)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "commune", "key"],
                name="one_notice_per_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class ReminderPreference(models.Model):
    """A parent's choice about the reminders before booking deadlines (on by default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preference"
    )
    booking_reminders = models.BooleanField(
        "recevoir un rappel avant la date limite de réservation", default=True
    )

    def __str__(self) -> str:
        return f"Rappels de {self.user_id}: {self.booking_reminders}"
