from django.utils import timezone

from tenants.calendar import calendar_warning
from tenants.permissions import staff_role


def commune(request) -> dict:
    """The commune of the request (or None on public pages) and the user's staff role in it."""
    tenant = getattr(request, "tenant", None)
    role = staff_role(request) if tenant and request.user.is_authenticated else None
    warning = None
    if role is not None:
        # The commune's staff learn when families can no longer book for lack of a school
        # calendar (no query: the commune is loaded, the snapshot is in memory).
        warning = calendar_warning(tenant, today=timezone.localdate())
    return {"commune": tenant, "staff_role": role, "calendar_warning": warning}
