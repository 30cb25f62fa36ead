"""What the bad-input walks share: a probe undone after itself, real ids in a path, and the
check of API.md's error format."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

from django.core.cache import cache
from django.db import transaction
from rest_framework.test import APIClient

from tests.fixtures.clients import api_token_for


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """Each probe starts from the same state: whatever a request wrote is undone."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass
    cache.clear()  # throttles and lockouts would otherwise hide what is behind them


def with_ids(path: str, ids: dict[str, int]) -> str:
    """'/c/{commune_slug}/x/{product_id}' or '…/<int:product_id>' → a real address in A."""
    path = path.replace("{commune_slug}", "commune-a").replace("<slug:commune_slug>", "commune-a")
    return re.sub(
        r"\{(\w+)\}|<int:(\w+)>",
        lambda match: str(ids.get(match.group(1) or match.group(2), 1)),
        path,
    )


def api_client_for(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(user)}")
    return client


def error_format_problem(response) -> str | None:
    """What is wrong with a 4xx body, by API.md's error format; None when it is right."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"no 'error' object: {str(body)[:200]}"
    if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
        return f"code/message missing: {error}"
    if not isinstance(error.get("fields"), dict):
        return f"fields is not an object: {error}"
    return None
