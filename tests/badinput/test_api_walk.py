"""Every operation of the OpenAPI schema, fed absurd bodies and parameters: never a 5xx.

The operations are read from drf-spectacular's generator, so a new endpoint is walked without
anyone adding it here. Each probe runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import json
import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.badinput.probes import api_client_for, error_format_problem, rolled_back, with_ids

pytestmark = pytest.mark.django_db

HUGE = 10**30
# JSON bodies that are not the object an endpoint expects.
NOT_OBJECTS = [[], "x", None, 123]
# Values given to every field of an object body at once: wrong types, out of range, absurd dates.
ABSURD_VALUES = [
    "x",
    [],
    {"a": []},
    HUGE,
    "0001-01-01",
    "99999-12-31",
    "2026-02-30",
    [HUGE],
    ["0001-01-01", "x"],
]
# Query strings: every declared parameter, plus the usual suspects, at once.
USUAL_PARAMS = {"page", "from", "to", "date", "month", "start", "end", "status", "product_id"}
ABSURD_QUERY_VALUES = ["0001-01-01", "99999-12-31", "2026-02-30", "9" * 30, "x\x00"]
OUT_OF_RANGE_ID = 10**25


def _operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method.upper(), operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def _query_names(operation: dict) -> set[str]:
    declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    return declared | USUAL_PARAMS


def _probes(method: str, operation: dict):
    """(description, client-call keyword arguments) for one operation."""
    if method not in {"POST", "PUT", "PATCH"}:
        for value in ABSURD_QUERY_VALUES:
            yield f"?…={value!r}", {"data": dict.fromkeys(_query_names(operation), value)}
        return
    for body in NOT_OBJECTS:
        yield f"body {body!r}", {"data": json.dumps(body), "content_type": "application/json"}
    content = operation.get("requestBody", {}).get("content", {})
    fields = {"a", "email", "token", "date", "dates", "children", "service_id", "product_id"}
    for media in content.values():
        fields |= set(media.get("schema", {}).get("properties", {}))
        ref = media.get("schema", {}).get("$ref", "")
        if ref:
            fields |= set(_components()[ref.rsplit("/", 1)[-1]].get("properties", {}))
    for value in ABSURD_VALUES:
        body = dict.fromkeys(fields, value)
        yield (
            f"body {{…: {value!r}}}",
            {"data": json.dumps(body), "content_type": "application/json"},
        )
    if "multipart/form-data" in content:
        for value in ("x", "9" * 30):
            yield (
                f"multipart {value!r}",
                {"data": dict.fromkeys(fields, value), "format": "multipart"},
            )


_COMPONENTS: dict = {}


def _components() -> dict:
    if not _COMPONENTS:
        schema = SchemaGenerator().get_schema(request=None, public=True)
        _COMPONENTS.update(schema.get("components", {}).get("schemas", {}))
    return _COMPONENTS


def test_no_operation_answers_a_5xx_to_absurd_input(someone, known_ids, quiet_request_log):
    client = api_client_for(someone)
    operations = _operations()
    assert len(operations) >= 35, "the generator should list every API operation"
    problems = []
    for template, method, operation in operations:
        if template.endswith("/payments/stripe/webhook"):
            continue  # reads the raw body only: its own tests send it signed and unsigned
        path = with_ids(template, known_ids)
        probes = [(path, label, kwargs) for label, kwargs in _probes(method, operation)]
        if "{" in template.replace("{commune_slug}", ""):
            huge_ids = dict.fromkeys(re.findall(r"\{(\w+)\}", template), OUT_OF_RANGE_ID)
            probes.append((with_ids(template, huge_ids), "id out of range", {}))
        for path, label, kwargs in probes:
            with rolled_back():
                response = getattr(client, method.lower())(path, **kwargs)
            status = response.status_code
            if status >= 500:
                problems.append(f"{method} {path} {label} → {status}")
            elif status >= 400 and (problem := error_format_problem(response)):
                problems.append(f"{method} {path} {label} → {status}: {problem}")
    assert not problems, "\n".join(sorted(set(problems)))
