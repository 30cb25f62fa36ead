"""Resolve the commune from the path (/c/<slug>/…) and point the connection at its schema.

We route by path on one host, so django-tenants' host-based middleware does not fit, and its
subfolder mode clears URL caches on every request. This middleware is small: it reads the slug,
finds the commune (cached per process, checked against the shared routing version in
tenants/selectors.py), sets the schema, and leaves URL resolution to one URLconf.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django_tenants.utils import get_public_schema_name

from tenants.selectors import CommuneCache, process_communes

COMMUNE_PREFIX = "/c/"
PUBLIC = get_public_schema_name()


def slug_from_path(path: str) -> str | None:
    if not path.startswith(COMMUNE_PREFIX):
        return None
    slug = path[len(COMMUNE_PREFIX) :].split("/", 1)[0]
    return slug or None


def _looks_like_a_slug(slug: str) -> bool:
    from tenants.services import SLUG_RE

    return len(slug) <= 50 and bool(SLUG_RE.match(slug))


# --- The search path kept between requests -------------------------------------------------
# django-tenants forgets the search path it set as soon as the schema is switched, even back to
# the same one: resetting to public after each commune request, as we must (nothing runs on a
# commune's schema outside its request), cost every commune request a `SET search_path` round
# trip. `_leave` switches back to public without sending anything (the SET is only issued by the
# next query, if any) and notes what the server connection still has; `_enter` for the same
# commune on the same server connection, with no query in between, restores django-tenants'
# note instead of sending the same SET again. Any query in between, a new connection, a
# rollback (which may revert a SET) or another schema: the SET is sent, as before.


def _enter(commune) -> None:
    left = getattr(connection, "_marelle_path_left", None)
    connection._marelle_path_left = None
    # None: no query since _leave set public (a query would have sent its SET and noted it).
    untouched = connection.search_path_set_schemas is None
    connection.set_tenant(commune)
    if (
        left is not None
        and settings.TENANT_KEEP_SEARCH_PATH
        and untouched
        and connection.connection is not None
        and left[0] is connection.connection
        and left[1] == connection._get_cursor_search_paths()
    ):
        connection.search_path_set_schemas = left[1]


def _leave() -> None:
    schemas, server_connection = connection.search_path_set_schemas, connection.connection
    connection.set_schema_to_public()
    if schemas and server_connection is not None:
        connection._marelle_path_left = (server_connection, list(schemas))


class CommuneMiddleware:
    def __init__(self, get_response, communes: CommuneCache | None = None):
        self.get_response = get_response
        # The process's cache of communes; a test passes its own to stand for another process.
        self.communes = communes or process_communes

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Every request starts on the public schema, whatever the previous one left behind
        # (switching only when needed: each switch costs a SET search_path).
        if connection.schema_name != PUBLIC:
            connection.set_schema_to_public()
        request.tenant = None
        if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
            # PostgreSQL refuses NUL in text: such an address is never a real one.
            from shared_apps.common.views import bad_address

            return bad_address(request)
        slug = slug_from_path(request.path_info)
        if slug is None:
            return self.get_response(request)
        # Anything that cannot be a slug is unknown without asking the database (or its cache).
        commune = self.communes.get(slug) if _looks_like_a_slug(slug) else None
        if commune is None:
            # Answered in process_view, once the session has told us who is asking, so the
            # French 404 page shows the right header; no commune schema is ever set.
            request.unknown_commune = slug
            return self.get_response(request)
        _enter(commune)
        request.tenant = commune
        try:
            return self.get_response(request)
        finally:
            _leave()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(request, "unknown_commune", None):
            from shared_apps.common.views import not_found

            return not_found(request, unknown_commune=request.unknown_commune)
        # Views under /c/<slug>/ read the commune from request.tenant, not from their kwargs.
        view_kwargs.pop("commune_slug", None)
        return None
