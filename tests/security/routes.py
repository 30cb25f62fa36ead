"""Every address of the platform, as the URL resolver and the OpenAPI schema list them, each
classified (who may use it) and with the kind of each of its ids.

A new route or a new id parameter that no rule below classifies makes
tests/security/test_isolation.py fail ("unclassified"), so nobody has to remember to add it to
the isolation suite: they only have to say what it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver

# Every address that answers someone without an account, as the resolver spells it. Any other
# address must ask who you are (401, 403, or a redirect to a login page): a new one is refused
# to anonymous visitors, or is added here on purpose.
OPEN_TO_ANONYMOUS = frozenset(
    {
        "",  # the platform's home page: the communes, by name
        "healthz",
        "readyz",  # readiness: which checks pass, nothing about anyone
        "metrics",  # answers the internal network only (tests/observability)
        "services/",  # the directory of published services
        "c/<slug:commune_slug>/",  # a commune's home page: its published services
        "api/schema/",
        "api/docs/",
        "api/v1/communes",
        "api/v1/payments/stripe/webhook",  # Stripe: authenticated by its signature, not a login
        "api/v1/auth/register",
        "api/v1/auth/verify-email",
        "api/v1/auth/token",
        "api/v1/auth/password-reset",
        "api/v1/auth/password-reset/confirm",
        "compte/acces/",
        "compte/connexion/",
        "compte/inscription/",
        "compte/deconnexion/",
        "compte/verifier/<str:token>/",
        "compte/mot-de-passe-oublie/",
        "compte/mot-de-passe/nouveau/<str:token>/",
        "admin/login/",
        "admin/logout/",
        "calendrier/<str:token>.ics",  # a family's calendar feed: the secret in it is the key
    }
)

# Who a route is for, by the first rule its resolver pattern matches (OPEN_TO_ANONYMOUS first).
# operator: platform operators only (/admin/, and /operateur/ when it comes);
# staff: a commune's staff (its back-office pages and staff API);
# commune: a family's pages and API inside one commune;
# account: a signed-in person's own pages and API on the platform (account, family, wallet).
KIND_RULES: tuple[tuple[str, str], ...] = (
    (r"^(admin|operateur)/", "operator"),
    (r"^c/<slug:commune_slug>/(gestion/|api/v1/staff/)", "staff"),
    (r"^c/<slug:commune_slug>/", "commune"),
    (
        r"^(api/v1/|compte/|famille/|porte-monnaie/|reservations/|mon-espace/|calendrier/)",
        "account",
    ),
)

# What each id in an address stands for, and so whose id the suite puts there:
# family: one family's row (F's, in commune A); commune: commune A's own row (catalogue, staff,
# cash journal); person: a person's own row; value: not an id (a year); secret: the address's
# secret itself (a link token) — a junk value, the page must refuse it; admin: Django admin's.
PARAM_KINDS: dict[str, str] = {
    "child_id": "family",
    "request_id": "family",
    "document_id": "family",
    "reservation_id": "family",
    "item_id": "family",
    "order_id": "family",
    "payment_id": "family",
    "invoice_id": "family",
    "mandate_id": "family",
    "note_id": "family",
    "certificate_id": "family",
    "family_id": "family",
    "token_id": "person",
    "product_id": "commune",
    "service_id": "commune",
    "closure_id": "commune",
    "document_type_id": "commune",
    "membership_id": "commune",
    "invitation_id": "commune",
    "receipt_id": "commune",
    "commune_id": "commune",
    "year": "value",
    "token": "secret",
    "commune_slug": "slug",  # the commune itself: each scenario says which one
    # Django's admin (operators only): its own ids.
    "app_label": "admin",
    "content_type_id": "admin",
    "object_id": "admin",
    "id": "admin",
    "url": "admin",
}
PAGE_METHODS = ("GET", "POST")


def _all_patterns(resolver=None, prefix=""):
    """Every resolver pattern, as one string ('c/<slug:commune_slug>/x/<int:pk>')."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _all_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _example_path(pattern: str, slug: str) -> str:
    """Turn 'c/<slug:commune_slug>/x/<int:pk>' into '/c/<slug>/x/1' (and the admin's regular
    expressions, '^(?P<app_label>tenants|auth)/$', into their first choice)."""
    path = pattern.replace("<slug:commune_slug>", slug)
    path = re.sub(r"<int:[^>]+>", "1", path)
    path = re.sub(r"<uuid:[^>]+>", "00000000-0000-0000-0000-000000000000", path)
    path = re.sub(r"<[^>]+>", "x", path)
    path = re.sub(r"\(\?P(?:<\w+>|x)([^)]*)\)", lambda m: m.group(1).split("|")[0], path)
    path = path.replace(".*", "x").replace("^", "").replace("$", "")
    return "/" + path


def schema_path(pattern: str) -> str:
    """The OpenAPI path of a resolver pattern: 'c/<slug:commune_slug>/api/v1/x/<int:y>' →
    '/c/{commune_slug}/api/v1/x/{y}'."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def params_of(pattern: str) -> list[str]:
    """The named parameters of a resolver pattern (path converters and regex groups)."""
    return re.findall(r"<(?:\w+:)?(\w+)>", pattern.replace("(?P<", "<"))


@dataclass(frozen=True)
class Route:
    pattern: str
    kind: str  # "public" | "operator" | "staff" | "commune" | "account" | "" (unclassified)
    methods: tuple[str, ...]
    params: tuple[str, ...]
    in_schema: bool

    @property
    def is_api(self) -> bool:
        return "api/v1/" in self.pattern

    def path(self, slug: str, ids: dict[str, object]) -> str:
        """The address in commune `slug` with the given ids (1 for an id not given)."""

        def value(match: re.Match) -> str:
            name = match.group(1)
            return str(ids.get(name, "x" if PARAM_KINDS.get(name) == "secret" else 1))

        with_ids = re.sub(r"<(?:int|str|path):(\w+)>", value, self.pattern)
        return _example_path(with_ids, slug)


def kind_of(pattern: str) -> str:
    if pattern in OPEN_TO_ANONYMOUS:
        return "public"
    for rule, kind in KIND_RULES:
        if re.match(rule, pattern):
            return kind
    return ""


@cache
def openapi_operations() -> dict[str, tuple[str, ...]]:
    """{OpenAPI path: its methods}, from drf-spectacular's generator (as /api/schema/ serves)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        path: tuple(method.upper() for method in item if method != "parameters")
        for path, item in schema["paths"].items()
    }


@cache
def all_routes() -> tuple[Route, ...]:
    """Every route of the resolver; an API route's methods are those of the OpenAPI schema
    (plus OPTIONS, which DRF answers too), a page's are GET and POST."""
    operations = openapi_operations()
    routes = []
    for pattern in sorted(set(_all_patterns())):
        in_schema = schema_path(pattern) in operations
        methods = (*operations[schema_path(pattern)], "OPTIONS") if in_schema else PAGE_METHODS
        routes.append(
            Route(pattern, kind_of(pattern), methods, tuple(params_of(pattern)), in_schema)
        )
    return tuple(routes)
