"""Schemathesis over our own OpenAPI schema, as a parent and as staff: no 5xx, and every answer
is what the schema says (issue 15; moved here from tests/badinput).

Every operation is called with generated data (positive and negative) and every answer goes
through all the checks: `not_a_server_error` (a 5xx only where the operation documents it:
503 when card payments are not configured), `response_schema_conformance`,
`status_code_conformance`, `content_type_conformance`, `response_headers_conformance`, and ours,
`stable_error_format` (every 4xx is API.md's `{"error": {"code", "message", "fields"}}`).

Then the same checks run statefully: schemathesis' state machine follows the links between
operations (inferred from the schema — a created child's `id` feeds `family/children/{child_id}`,
a cart item's feeds `cart/items/{item_id}`…), so sequences such as create → read → change →
delete are tried, not only single calls.

The people and the ids are those of tests/security/world.py (family F and commune A's manager).
Bounded and deterministic: a few derandomized examples per operation, a few short scenarios, no
shrinking; each call (stateless) or each scenario (stateful) in a savepoint rolled back.
"""

from __future__ import annotations

import copy

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.badinput.probes import error_format_problem, rolled_back

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("security")]

EXAMPLES_PER_OPERATION = 2
SCENARIOS_PER_ROLE = 10
STEPS_PER_SCENARIO = 8
ACTORS = {"parent": "parent_f", "staff": "manager_a"}
# What a stateful run must not call: it would sign its own token out (tested in test_tokens.py)
# or needs a signature (the webhook).
NOT_IN_SCENARIOS = r"/auth/(logout|tokens/\{token_id\}|token$)|/me/password|/payments/stripe/"


@pytest.fixture
def wsgi_app():
    """Django's real WSGI handler, on the test's connection (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


_DOWNLOADED: dict = {}


@pytest.fixture
def openapi(wsgi_app):
    """The schema exactly as a client generator downloads it, calls going to the same app.

    Downloaded once per session: generating it takes a second or two.
    """
    if not _DOWNLOADED:
        loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
        _DOWNLOADED.update(copy.deepcopy(loaded.raw_schema))
    schema = schemathesis.openapi.from_dict(copy.deepcopy(_DOWNLOADED))
    schema.app = wsgi_app
    return schema


def not_a_server_error(ctx, response, case) -> None:
    """No 5xx, except one the operation documents (503: card payments not configured here)."""
    status = response.status_code
    if status >= 500 and str(status) not in case.operation.definition.raw.get("responses", {}):
        raise AssertionError(f"{status} answered: {response.text[:300]}")


def stable_error_format(ctx, response, case) -> None:
    """Every 4xx in API.md's format: {"error": {"code", "message", "fields"}}."""
    if 400 <= response.status_code < 500 and (problem := error_format_problem(response)):
        raise AssertionError(f"{response.status_code} not in the error format: {problem}")


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    stable_error_format,
]


def _for(schema, role: str):
    """The operations of a role: the staff API as staff, everything else as a parent."""
    if role == "staff":
        return schema.include(path_regex="/staff/")
    return schema.exclude(path_regex="/staff/")


def _run(operation, *, headers: dict, path_parameters: dict, mode: GenerationMode) -> None:
    wanted = {p.name for p in operation.path_parameters}
    strategy = operation.as_strategy(
        generation_mode=mode,
        path_parameters={k: v for k, v in path_parameters.items() if k in wanted},
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        with rolled_back():
            case.call_and_validate(headers=headers, checks=CHECKS)

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("role", ["parent", "staff"])
def test_the_api_answers_as_its_schema_says(world, role, mode, openapi, quiet_request_log):
    """Staff operations are tried as staff, the others as a parent (the refusals of the other
    side are proven by tests/security/test_isolation.py)."""
    headers = {"Authorization": world.actors[ACTORS[role]].api_headers["HTTP_AUTHORIZATION"]}
    failures, tried = [], 0
    for result in _for(openapi, role).get_all_operations():
        operation = result.ok()
        tried += 1
        try:
            _run(operation, headers=headers, path_parameters=world.ids, mode=mode)
        except Unsatisfiable:
            pass  # nothing to make invalid (no parameter, no body): the positive run covers it
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert tried >= 6
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", ["parent", "staff"])
def test_sequences_of_calls_answer_as_the_schema_says(world, role, openapi, quiet_request_log):
    """Stateful: scenarios of linked calls (an id one answer gives, used by the next call)."""
    headers = {"Authorization": world.actors[ACTORS[role]].api_headers["HTTP_AUTHORIZATION"]}
    schema = _for(openapi, role).exclude(path_regex=NOT_IN_SCENARIOS)

    Machine = schema.as_state_machine()
    links = [
        f"{source} -> {link.target.label}"
        for source, transitions in Machine._transitions.operations.items()
        for link in transitions.outgoing
    ]
    steps: list[tuple[str, bool]] = []  # (operation, reached through a link with its data)

    class Scenarios(Machine):  # type: ignore[misc,valid-type]
        def step(self, input):
            if "commune_slug" in (input.case.path_parameters or {}):
                input.case.path_parameters["commune_slug"] = "commune-a"  # the commune of world
            steps.append((input.case.operation.label, bool(input.transition and input.is_applied)))
            return super().step(input)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    with rolled_back():
        Scenarios.run(
            settings=settings(
                max_examples=SCENARIOS_PER_ROLE,
                stateful_step_count=STEPS_PER_SCENARIO,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
    followed = sorted({label for label, linked in steps if linked})
    print(f"{role}: {len(links)} links, {len(steps)} calls, through a link: {followed}")
    assert len(links) >= 5, links
    assert followed, f"no call was reached through a link ({len(steps)} calls)"
