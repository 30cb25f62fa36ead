"""The one parser of date and id query parameters (shared_apps.common.validation)."""

from __future__ import annotations

import pytest

from shared_apps.common.validation import InvalidInput, date_param, int_param


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("2026-12-07", True), ("2026-02-30", False), ("0001-01-01", False), ("99999-12-31", False)],
)
def test_date_param_takes_only_real_dates_of_our_years(raw, ok):
    if ok:
        assert date_param({"date": raw}, "date").isoformat() == raw
    else:
        with pytest.raises(InvalidInput):
            date_param({"date": raw}, "date")


@pytest.mark.parametrize("raw", ["", "x", "-1", "1.5", "٣", "9" * 30])
def test_int_param_refuses_what_is_not_an_id(raw):
    with pytest.raises(InvalidInput):
        int_param({"id": raw}, "id")
