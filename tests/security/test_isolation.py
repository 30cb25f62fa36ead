"""Isolation, enumerated: every route of the resolver and of the OpenAPI schema × every method
it takes × every boundary (issue 15; TESTING.md, isolation list items 3, 4, 5 and 13).

Routes come from tests/security/routes.py (a route or an id parameter nobody classified fails
`test_every_route_and_every_id_is_classified`), the people and rows from
tests/security/world.py (built once for the module). A boundary is one `Scenario` entry: who
asks, in which commune's addresses, which routes it applies to, which answers refuse, and whose
data must never appear in the answer. Where an id is in the address, the answer for someone
else's id must also be exactly the answer for an id that does not exist (404, or the same 400
or 405): the existence of another family's or commune's row never shows.

Adding a role or a condition (a suspended commune…) is one more `Scenario`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.badinput.probes import rolled_back
from tests.security.routes import (
    OPEN_TO_ANONYMOUS,
    PARAM_KINDS,
    Route,
    all_routes,
    openapi_operations,
    schema_path,
)

pytestmark = pytest.mark.xdist_group("security")  # one worker builds the world once

LOGIN_PAGES = ("/compte/acces/?next=", "/admin/login/?next=")
MISSING_ID = 987_654_321


def _with_ids(*kinds: str) -> Callable[[Route], bool]:
    return lambda route: any(PARAM_KINDS[p] in kinds for p in route.params)


@dataclass(frozen=True)
class Scenario:
    name: str
    actor: str  # a key of World.actors
    slug: str  # the commune the addresses are built in
    applies: Callable[[Route], bool]
    refusals: frozenset[int]  # the statuses that refuse
    markers: tuple[str, ...]  # World.markers groups that must not appear in any answer
    login_redirect: bool = False  # a redirect to a login page refuses too
    same_as_missing: bool = False  # someone else's id answers as an id that does not exist


SCENARIOS = (
    Scenario(
        "anonymous",
        "anonymous",
        "commune-a",
        lambda route: route.kind != "public",
        frozenset({401, 403, 405}),
        ("family_f", "family_g", "rows_of_a", "staff_of_a", "staff_of_b"),
        login_redirect=True,
    ),
    Scenario(
        "a parent on staff routes",
        "parent_f",
        "commune-a",
        lambda route: route.kind == "staff",
        frozenset({403, 404, 405}),
        ("family_g", "staff_of_a"),
    ),
    Scenario(
        "staff of commune A on commune B",
        "manager_a",
        "commune-b",
        lambda route: route.kind == "staff",
        frozenset({403, 404, 405}),
        ("family_f", "family_g", "staff_of_b"),
    ),
    Scenario(
        "staff on operator-only routes",
        "manager_a",
        "commune-a",
        lambda route: route.kind == "operator",
        frozenset({403, 404, 405}),
        ("family_f", "family_g", "staff_of_b"),
        login_redirect=True,
    ),
    Scenario(
        "another family's ids",
        "parent_g",
        "commune-a",
        lambda route: route.kind in ("commune", "account") and _with_ids("family", "person")(route),
        frozenset({400, 404, 405}),
        ("family_f",),
        same_as_missing=True,
    ),
    Scenario(
        "another commune's ids, by the family",
        "parent_f",
        "commune-b",
        lambda route: route.kind == "commune" and _with_ids("family", "commune")(route),
        frozenset({400, 404, 405}),
        ("rows_of_a",),
        same_as_missing=True,
    ),
    Scenario(
        "another commune's ids, by its staff",
        "manager_b",
        "commune-b",
        lambda route: route.kind == "staff" and _with_ids("family", "commune")(route),
        frozenset({400, 404, 405}),
        ("family_f", "family_g", "rows_of_a", "staff_of_a"),
        same_as_missing=True,
    ),
)


def _ask(actor, route: Route, method: str, path: str):
    extra = actor.api_headers if route.is_api else {}
    with rolled_back():
        return actor.page.generic(method, path, **extra)


def _shown(response, markers: list[str]) -> list[str]:
    body = b"" if response.streaming else response.content
    return [marker for marker in markers if marker.encode() in body]


def _refused(scenario: Scenario, response) -> bool:
    if response.status_code in scenario.refusals:
        return True
    return (
        scenario.login_redirect
        and response.status_code == 302
        and response["Location"].startswith(LOGIN_PAGES)
    )


def test_every_route_and_every_id_is_classified():
    """A new route gets a kind (routes.KIND_RULES), each of its ids a kind (routes.PARAM_KINDS),
    and an API route is documented in the OpenAPI schema (and nothing else is)."""
    routes = all_routes()
    assert len(routes) > 200
    unclassified = [r.pattern for r in routes if not r.kind]
    unknown_ids = sorted({p for r in routes for p in r.params if p not in PARAM_KINDS})
    undocumented = [
        r.pattern for r in routes if r.is_api and not r.in_schema and r.kind != "public"
    ]
    resolved = {schema_path(r.pattern) for r in routes}
    unresolved = [path for path in openapi_operations() if path not in resolved]
    assert not unclassified, f"classify in tests/security/routes.py: {unclassified}"
    assert not unknown_ids, f"add to PARAM_KINDS in tests/security/routes.py: {unknown_ids}"
    assert not undocumented, f"API routes missing from the OpenAPI schema: {undocumented}"
    assert not unresolved, f"schema paths no route serves: {unresolved}"
    assert {r.pattern for r in routes if r.kind == "public"} == OPEN_TO_ANONYMOUS


def test_every_public_route_answers_anonymous_visitors(world, quiet_request_log):
    anonymous = world.actors["anonymous"]
    problems = []
    for route in all_routes():
        if route.kind != "public":
            continue
        path = route.path("commune-a", {})
        answers = {m: _ask(anonymous, route, m, path) for m in route.methods}
        if all(r.status_code in (401, 403, 405) or r.status_code >= 500 for r in answers.values()):
            problems.append(
                f"{path}: open to anyone, yet {[r.status_code for r in answers.values()]}"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_no_route_leaks_across_the_boundary(world, scenario, quiet_request_log):
    actor = world.actors[scenario.actor]
    markers = [m for group in scenario.markers for m in world.markers[group]]
    missing = {name: MISSING_ID for name, kind in PARAM_KINDS.items() if kind != "value"}
    missing["token"] = "x"
    problems, tried = [], 0
    for route in all_routes():
        if not scenario.applies(route):
            continue
        path = route.path(scenario.slug, world.ids)
        methods = [m for m in route.methods if not (scenario.same_as_missing and m == "OPTIONS")]
        for method in methods:
            tried += 1
            response = _ask(actor, route, method, path)
            where = f"{method} {path} → {response.status_code}"
            if response.status_code >= 500:
                problems.append(f"{where}: server error")
            elif not _refused(scenario, response):
                problems.append(f"{where}: not refused")
            if shown := _shown(response, markers):
                problems.append(f"{where}: shows {shown}")
            if scenario.same_as_missing:
                other = _ask(actor, route, method, route.path(scenario.slug, missing))
                if other.status_code != response.status_code:
                    problems.append(
                        f"{where}, yet {other.status_code} for an id that does not exist"
                    )
    assert tried >= 10, f"{scenario.name}: only {tried} requests: does it apply to any route?"
    assert not problems, f"{scenario.name} ({tried} requests):\n" + "\n".join(problems)
