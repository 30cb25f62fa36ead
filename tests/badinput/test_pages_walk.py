"""Every page, fed absurd query parameters and absurd form fields: never a 5xx.

Pages are enumerated from the resolver (as tests/tenants/test_isolation.py does) and the form
fields are read from each page's own HTML, so a new page or field is walked without anyone adding
it here. Each probe runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import re
from html import unescape as html_unescape

import pytest
from django.test import Client

from tests.badinput.conftest import rolled_back, with_ids
from tests.tenants.test_isolation import _all_patterns, _example_path

pytestmark = pytest.mark.django_db

# What the pages read from their query strings, plus names they may read one day.
QUERY_NAMES = ["mois", "month", "date", "start", "end", "from", "to", "page", "statut", "status"]
QUERY_NAMES += ["famille", "commune", "service", "next", "email", "product_id", "child_id"]
ABSURD_QUERY_VALUES = ["0001-01", "99999-12-31", "2026-02-30", "9" * 30, "x\x00"]
ABSURD_FORM_VALUES = ["0001-01-01", "99999-12-31", "2026-02-30", "9" * 30, "\x00"]
SKIPPED_PREFIXES = ("admin/", "api/", "c/<slug:commune_slug>/api/")


def _page_paths(ids: dict[str, int]) -> list[str]:
    return sorted(
        {
            _example_path(with_ids(pattern, ids), "commune-a")
            for pattern in _all_patterns()
            if not pattern.startswith(SKIPPED_PREFIXES)
        }
    )


def _forms(html: str, page: str) -> list[tuple[str, set[str]]]:
    """[(where the form posts, its field names), …] read from a page's HTML."""
    forms = []
    for form in re.findall(r"<form\b.*?</form>", html, flags=re.S):
        method = re.search(r'\smethod="(\w+)"', form)
        if not method or method.group(1).lower() != "post":
            continue
        action = re.search(r'\saction="([^"]*)"', form)
        names = set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', form))
        names.discard("csrfmiddlewaretoken")
        if names:
            forms.append(
                (html_unescape(action.group(1)) if action and action.group(1) else page, names)
            )
    return forms


def _problem(method: str, path: str, label: str, response) -> str | None:
    if response.status_code >= 500:
        return f"{method} {path} {label} → {response.status_code}"
    return None


def test_no_page_answers_a_5xx_to_absurd_input(someone, known_ids, quiet_request_log):
    client = Client(raise_request_exception=False)
    client.force_login(someone)
    paths = _page_paths(known_ids)
    assert len(paths) >= 30, "the resolver should list every page"
    problems, forms = [], {}
    for path in paths:
        with rolled_back():
            page = client.get(path)
        if page.status_code in (403, 404, 405):
            continue  # refused before any parameter is read
        for value in ABSURD_QUERY_VALUES:
            with rolled_back():
                response = client.get(path, dict.fromkeys(QUERY_NAMES, value))
            problems.append(_problem("GET", path, f"?…={value!r}", response))
        if page.status_code == 200:
            for action, names in _forms(page.content.decode(errors="replace"), path):
                forms.setdefault(action, set()).update(names)
    assert forms, "the pages should show forms"
    for action, names in sorted(forms.items()):
        for value in ABSURD_FORM_VALUES:
            with rolled_back():
                response = client.post(action, dict.fromkeys(names, value))
            problems.append(_problem("POST", action, f"{sorted(names)}={value!r}", response))
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)
