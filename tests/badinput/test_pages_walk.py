"""Every page, fed absurd query parameters and absurd form fields: never a 5xx.

Pages are enumerated from the resolver (tests/security/routes.py) and the form
fields are read from each page's own HTML, so a new page or field is walked without anyone adding
it here. Each probe runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.badinput.forms import post_forms
from tests.badinput.probes import rolled_back, with_ids
from tests.security.routes import _all_patterns, _example_path

pytestmark = pytest.mark.django_db

# What the pages read from their query strings, plus names they may read one day.
QUERY_NAMES = ["mois", "month", "date", "start", "end", "from", "to", "page", "statut", "status"]
QUERY_NAMES += ["famille", "commune", "service", "next", "email", "product_id", "child_id"]
# (A NUL byte is refused by the commune middleware before any page: see tests/tenants.)
ABSURD_QUERY_VALUES = ["0001-01", "0001-01-01", "2026-02-30", "9" * 30]
ABSURD_FORM_VALUES = ["99999-12-31", "2026-02-30", "\x00"]
# One field at a time, the others as the page filled them: dates at the ends of the calendar
# (arithmetic overflows) and integers beyond PostgreSQL's.
ONE_FIELD_VALUES = ["0001-01-01", "9" * 30]
SKIPPED_PREFIXES = ("admin/", "api/", "c/<slug:commune_slug>/api/")


def _page_paths(ids: dict[str, int]) -> list[str]:
    return sorted(
        {
            _example_path(with_ids(pattern, ids), "commune-a")
            for pattern in _all_patterns()
            if not pattern.startswith(SKIPPED_PREFIXES)
        }
    )


def _filled(data: dict[str, list[str]]) -> dict[str, list[str]]:
    """The form as a person would complete it: blank fields get a plausible value."""

    def plausible(name: str) -> str:
        if "date" in name or name in ("start", "end"):
            return "2026-12-07"
        if any(word in name for word in ("amount", "cents", "price")):
            return "10"
        return {"email": "essai@exemple.fr", "reference": "R1"}.get(name, "Essai")

    return {
        name: values if any(v.strip() for v in values) else [plausible(name)]
        for name, values in data.items()
    }


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
            for form in post_forms(page.content.decode(errors="replace"), path):
                forms.setdefault((form["action"], tuple(sorted(form["names"]))), form)
    assert forms, "the pages should show forms"
    for (action, names), form in sorted(forms.items()):
        probes = [
            (f"{list(names)}={value!r}", dict.fromkeys(names, value))
            for value in ABSURD_FORM_VALUES
        ]
        filled = _filled(form["data"])
        probes += [
            (f"{name}={value!r}", {**filled, name: value})
            for name in names
            if re.match(r"\d", (filled.get(name) or [""])[0])  # a date, a number, an id
            for value in ONE_FIELD_VALUES
        ]
        for label, data in probes:
            with rolled_back():
                response = client.post(action, data)
            problems.append(_problem("POST", action, label, response))
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)
