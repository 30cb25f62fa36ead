"""Every page, fed absurd query parameters and absurd form fields: never a 5xx.

Pages are enumerated from the resolver (as tests/tenants/test_isolation.py does) and the form
fields are read from each page's own HTML, so a new page or field is walked without anyone adding
it here. Each probe runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.badinput.conftest import rolled_back
from tests.tenants.test_isolation import _all_patterns, _example_path

pytestmark = pytest.mark.django_db

# What the pages read from their query strings, plus names they may read one day.
QUERY_NAMES = ["mois", "month", "date", "start", "end", "from", "to", "page", "statut", "status"]
QUERY_NAMES += ["famille", "commune", "service", "next", "email", "product_id", "child_id"]
ABSURD_QUERY_VALUES = ["0000-01", "99999-12-31", "2026-02-30", "9" * 30, "x\x00", "-1-1"]
ABSURD_FORM_VALUES = ["99999-12-31", "2026-02-30", "9" * 30, "\x00", "-1"]
SKIPPED_PREFIXES = ("admin/", "api/", "c/<slug:commune_slug>/api/")


def _page_paths() -> list[str]:
    return sorted(
        {
            _example_path(pattern, "commune-a")
            for pattern in _all_patterns()
            if not pattern.startswith(SKIPPED_PREFIXES)
        }
    )


def _field_names(html: str) -> set[str]:
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', html))
    return names - {"csrfmiddlewaretoken"}


def test_no_page_answers_a_5xx_to_absurd_input(someone):
    client = Client(raise_request_exception=False)
    client.force_login(someone)
    paths = _page_paths()
    assert len(paths) >= 30, "the resolver should list every page"
    problems = []
    for path in paths:
        for value in ABSURD_QUERY_VALUES:
            with rolled_back():
                response = client.get(path, dict.fromkeys(QUERY_NAMES, value))
            if response.status_code >= 500:
                problems.append(f"GET {path} ?…={value!r} → {response.status_code}")
        with rolled_back():
            page = client.get(path)
        fields = (
            _field_names(page.content.decode(errors="replace"))
            if page.status_code == 200
            else set()
        )
        for value in ABSURD_FORM_VALUES if fields else ():
            with rolled_back():
                response = client.post(path, dict.fromkeys(fields, value))
            if response.status_code >= 500:
                problems.append(f"POST {path} {sorted(fields)}={value!r} → {response.status_code}")
    assert not problems, "\n".join(problems)
