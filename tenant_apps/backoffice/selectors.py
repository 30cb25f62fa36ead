"""What staff may see of families: only those that asked this commune for a service."""

from __future__ import annotations

from django.db.models import Min

from shared_apps.accounts.models import User
from tenant_apps.enrollments.models import AccessRequest


def known_families() -> list[tuple[int, str]]:
    """(family_id, "Name (e-mail)") of the families that sent this commune a request."""
    firsts = (
        AccessRequest.objects.values("family_id").annotate(first_pk=Min("pk")).order_by("family_id")
    )
    submitters = dict(
        AccessRequest.objects.filter(pk__in=[row["first_pk"] for row in firsts]).values_list(
            "family_id", "submitted_by_id"
        )
    )
    users = User.objects.in_bulk(list(submitters.values()))
    rows = [
        (family_id, f"{users[uid].get_full_name()} ({users[uid].email})")
        for family_id, uid in submitters.items()
        if uid in users
    ]
    return sorted(rows, key=lambda row: row[1].lower())


def family_is_known(family_id: int) -> bool:
    return AccessRequest.objects.filter(family_id=family_id).exists()
