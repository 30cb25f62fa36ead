"""Reads of the commune's billing data for one family (mandates, invoices)."""

from __future__ import annotations

from tenant_apps.billing.models import Mandate, MandateStatus


def active_mandate(family_id: int | None) -> Mandate | None:
    """The family's active SEPA mandate with this commune (the connection's schema), or None."""
    if family_id is None:
        return None
    return Mandate.objects.filter(family_id=family_id, status=MandateStatus.ACTIVE).first()


def has_active_mandate(family_id: int | None) -> bool:
    """Whether this commune may debit the family now (one query)."""
    if family_id is None:
        return False
    return Mandate.objects.filter(family_id=family_id, status=MandateStatus.ACTIVE).exists()


def mandates_of_family(family_id: int | None, *, limit: int = 20) -> list[Mandate]:
    """The family's mandates here, newest first, without set-ups abandoned before any IBAN."""
    if family_id is None:
        return []
    return list(
        Mandate.objects.filter(family_id=family_id)
        .exclude(status__in=[MandateStatus.PENDING, MandateStatus.FAILED], iban_last4="")
        .order_by("-created_at", "-pk")[:limit]
    )
