"""Writing the audit log. Entries are only ever added, never changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared_apps.audit.models import AuditEntry

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune


def record(
    *,
    actor: User | None,
    action: str,
    commune: Commune | None = None,
    target_type: str = "",
    target_id: object = "",
    family_id: int | None = None,
    details: dict | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        commune=commune,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        family_id=family_id,
        details=details or {},
    )
