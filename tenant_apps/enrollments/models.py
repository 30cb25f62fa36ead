"""Access requests to a commune's service, their documents, and the resulting enrolments.

Families, children and users live in the public schema: referenced here by id without database
constraints (see ARCHITECTURE.md, "Tenancy and routing").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenant_apps.catalog.models import DocumentType, Service
from tenants.fields import PublicOneToOneRef, PublicRef


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", "Envoyée"
    ACCEPTED = "accepted", "Acceptée"
    REJECTED = "rejected", "Refusée"
    INFO_REQUESTED = "info_requested", "Informations demandées"


def document_path(instance: Document, filename: str) -> str:
    # Never the parent's file name: a random one, under the commune's own folder (the storage
    # prefixes it with the schema name).
    return f"documents/{uuid.uuid4().hex}.{instance.extension}"


class AccessRequest(models.Model):
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="access_requests")
    family = PublicRef("families.Family")
    submitted_by = PublicRef(settings.AUTH_USER_MODEL)
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    reason = models.TextField("motif", blank=True)
    info_document_type = models.ForeignKey(
        DocumentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = PublicRef(settings.AUTH_USER_MODEL, null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Demande n° {self.pk} ({self.get_status_display()})"


class AccessRequestChild(models.Model):
    access_request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="request_children"
    )
    child = PublicRef("families.Child")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["access_request", "child"], name="child_once_per_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.access_request} — enfant {self.child_id}"


class Document(models.Model):
    access_request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="documents"
    )
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=document_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = PublicRef(settings.AUTH_USER_MODEL)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # A re-upload supersedes the previous file of the same type; history is kept.
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document_type__label", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["access_request", "document_type"],
                condition=Q(replaced_at__isnull=True),
                name="one_current_document_per_type",
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_type} ({self.original_name})"

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
            self.content_type, "bin"
        )


class Enrollment(models.Model):
    """A child accepted for a service: only enrolled children can be booked."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="enrollments")
    child = PublicRef("families.Child")
    family = PublicRef("families.Family")
    access_request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "child"], name="one_enrollment_per_child")
        ]

    def __str__(self) -> str:
        return f"Enfant {self.child_id} inscrit à {self.service}"


class FamilyProfile(models.Model):
    """What this commune knows of a family beyond its requests: its quotient familial."""

    family = PublicOneToOneRef("families.Family")
    quotient_familial = models.PositiveIntegerField("quotient familial", null=True, blank=True)
    set_by = PublicRef(settings.AUTH_USER_MODEL, null=True, blank=True)
    set_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Famille {self.family_id} : QF {self.quotient_familial}"
