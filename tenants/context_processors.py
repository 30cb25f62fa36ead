def commune(request) -> dict:
    """The commune of the request (or None on public pages), for the layout's header."""
    return {"commune": getattr(request, "tenant", None)}
