"""Schemathesis over our own OpenAPI schema: no 5xx, and every answer is what the schema says.

A client generated from /api/schema/ must work: statuses, content types and bodies are checked
against the schema (response_schema_conformance and the other default checks), as a parent and as
staff. Bounded and deterministic: a few derandomized examples per operation, no shrinking, each
call in a savepoint that is rolled back.
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
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.badinput.probes import rolled_back
from tests.fixtures.clients import api_token_for

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 2


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


def no_undocumented_server_error(ctx, response, case) -> None:
    """No 5xx, except one the operation documents (503: card payments not configured here)."""
    status = response.status_code
    if status >= 500 and str(status) not in case.operation.definition.raw.get("responses", {}):
        raise AssertionError(f"{status} answered: {response.text[:300]}")


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
            case.call_and_validate(
                headers=headers,
                excluded_checks=[not_a_server_error, positive_data_acceptance],
                additional_checks=[no_undocumented_server_error],
            )

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("role", ["parent", "staff"])
def test_the_api_answers_as_its_schema_says(
    request, role, mode, known_ids, openapi, quiet_request_log
):
    """Staff operations are tried as staff, the others as a parent (the refusals of the other
    side are proven by the isolation tests and by test_api_walk.py)."""
    someone = request.getfixturevalue(role)
    headers = {"Authorization": f"Bearer {api_token_for(someone)}"}
    path_parameters = {"commune_slug": "commune-a", **known_ids}
    failures, tried = [], 0
    for result in openapi.get_all_operations():
        operation = result.ok()
        if ("/staff/" in operation.path) != (role == "staff"):
            continue
        tried += 1
        try:
            _run(operation, headers=headers, path_parameters=path_parameters, mode=mode)
        except Unsatisfiable:
            pass  # nothing to make invalid (no parameter, no body): the positive run covers it
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert tried >= 6
    assert not failures, "\n\n".join(failures)
