from tenants.permissions import staff_role


def commune(request) -> dict:
    """The commune of the request (or None on public pages) and the user's staff role in it."""
    tenant = getattr(request, "tenant", None)
    role = staff_role(request) if tenant and request.user.is_authenticated else None
    return {"commune": tenant, "staff_role": role}
