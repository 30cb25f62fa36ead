"""Deadlines, calendars and prices as pure functions — across DST, holidays and boundaries."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from tenant_apps.bookings import rules
from tenant_apps.catalog.models import DeadlineKind, OpeningPeriod
from tenants.calendar import calendar_for_place, place_of

PARIS = rules.PARIS
AIN = calendar_for_place(place_of("01001"))  # Ain: Métropole public holidays, school zone A


def d(s: str) -> datetime.date:
    return datetime.date.fromisoformat(s)


def test_two_working_days_before_at_noon():
    rule = rules.DeadlineRule(DeadlineKind.WORKING_DAYS_BEFORE, days=2, time=datetime.time(12))
    # Monday 7 Dec 2026 → Thursday 3 Dec 12:00 (the weekend is not working days).
    assert rules.deadline_for(d("2026-12-07"), rule, calendar=AIN) == datetime.datetime(
        2026, 12, 3, 12, tzinfo=PARIS
    )


def test_working_days_skip_public_holidays():
    rule = rules.DeadlineRule(DeadlineKind.WORKING_DAYS_BEFORE, days=1, time=datetime.time(9))
    # Thursday 12 Nov 2026: the day before is 11 November (holiday) → Tuesday 10 Nov.
    assert rules.deadline_for(d("2026-11-12"), rule, calendar=AIN).date() == d("2026-11-10")


def test_the_thursday_before_at_noon_for_the_next_week():
    rule = rules.DeadlineRule(DeadlineKind.WEEKDAY_BEFORE, weekday=3, time=datetime.time(12))
    for day in ("2026-12-07", "2026-12-08", "2026-12-11"):
        assert rules.deadline_for(d(day), rule, calendar=AIN) == datetime.datetime(
            2026, 12, 3, 12, tzinfo=PARIS
        )


def test_same_day_before_nine():
    rule = rules.DeadlineRule(DeadlineKind.SAME_DAY, time=datetime.time(9))
    assert rules.deadline_for(d("2026-12-07"), rule, calendar=AIN) == datetime.datetime(
        2026, 12, 7, 9, tzinfo=PARIS
    )


def test_deadline_keeps_wall_clock_time_across_the_dst_change():
    rule = rules.DeadlineRule(DeadlineKind.WORKING_DAYS_BEFORE, days=1, time=datetime.time(12))
    # Spring forward on Sunday 29 March 2026: Friday 27 is +01:00, Monday 30 is +02:00.
    before = rules.deadline_for(
        d("2026-03-30"), rule, calendar=AIN
    )  # → Friday 27 March 12:00 (+01:00)
    after = rules.deadline_for(
        d("2026-03-31"), rule, calendar=AIN
    )  # → Monday 30 March 12:00 (+02:00)
    assert before.utcoffset() == datetime.timedelta(hours=1)
    assert after.utcoffset() == datetime.timedelta(hours=2)
    assert (before.hour, after.hour) == (12, 12)
    assert after.astimezone(datetime.UTC).hour == 10 and before.astimezone(datetime.UTC).hour == 11


def test_school_days_closed_on_holidays_weekends_wednesdays_and_closures():
    kwargs = {
        "weekdays": [0, 1, 3, 4],
        "opening_period": OpeningPeriod.SCHOOL_DAYS,
        "calendar": AIN,
    }
    assert rules.is_open(d("2026-12-07"), closures=set(), **kwargs)  # a Monday in term
    assert not rules.is_open(d("2026-12-09"), closures=set(), **kwargs)  # Wednesday
    assert not rules.is_open(d("2026-12-12"), closures=set(), **kwargs)  # Saturday
    assert not rules.is_open(d("2026-12-21"), closures=set(), **kwargs)  # Christmas holidays
    assert not rules.is_open(d("2026-11-11"), closures=set(), **kwargs)  # public holiday
    assert not rules.is_open(d("2026-12-07"), closures={d("2026-12-07")}, **kwargs)


def test_holiday_centre_opens_only_in_school_holidays():
    kwargs = {
        "weekdays": [0, 1, 2, 3, 4],
        "opening_period": OpeningPeriod.HOLIDAYS,
        "calendar": AIN,
        "closures": set(),
    }
    assert rules.is_open(d("2026-12-22"), **kwargs)
    assert not rules.is_open(d("2026-12-08"), **kwargs)
    assert not rules.is_open(d("2026-12-25"), **kwargs)  # Christmas day


def test_price_by_quotient_familial_bracket_and_sibling_reduction():
    brackets = [{"max_qf": 700, "price_cents": 150}, {"max_qf": 1200, "price_cents": 300}]
    common = {"base_price_cents": 450, "qf_brackets": brackets, "sibling_reduction_percent": 10}
    assert rules.price_for(quotient_familial=500, sibling_rank=1, **common) == 150
    assert rules.price_for(quotient_familial=700, sibling_rank=1, **common) == 150
    assert rules.price_for(quotient_familial=701, sibling_rank=1, **common) == 300
    assert rules.price_for(quotient_familial=5000, sibling_rank=1, **common) == 450
    assert rules.price_for(quotient_familial=None, sibling_rank=1, **common) == 450
    assert rules.price_for(quotient_familial=1000, sibling_rank=2, **common) == 270


def test_refund_share_within_and_after_the_deadline():
    deadline = datetime.datetime(2026, 12, 3, 12, tzinfo=PARIS)
    minute = datetime.timedelta(minutes=1)

    def share(now, late):
        return rules.refund_percent_at(now=now, deadline=deadline, late_refund_percent=late)

    assert share(deadline - minute, 0) == 100
    assert share(deadline, 0) == 0
    assert share(deadline, 50) == 50
    assert share(deadline, None) is None


@given(
    day=st.dates(min_value=datetime.date(2025, 1, 1), max_value=datetime.date(2028, 6, 30)),
    days=st.integers(min_value=0, max_value=10),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.integers(min_value=0, max_value=59),
    kind=st.sampled_from(list(DeadlineKind.values)),
    weekday=st.integers(min_value=0, max_value=6),
)
def test_any_deadline_is_at_the_stated_wall_clock_time_and_never_after_the_day(
    day, days, hour, minute, kind, weekday
):
    rule = rules.DeadlineRule(kind, days=days, weekday=weekday, time=datetime.time(hour, minute))
    deadline = rules.deadline_for(day, rule, calendar=AIN)
    local = deadline.astimezone(PARIS)
    assert deadline.tzinfo is not None
    assert local.date() <= day
    if (local.hour, local.minute) != (hour, minute):
        # Only the hour skipped by spring-forward (02:xx on the last Sunday of March) moves.
        assert local.month == 3 and local.weekday() == 6 and hour == 2


@given(
    price=st.integers(min_value=0, max_value=100_000),
    qf=st.one_of(st.none(), st.integers(min_value=0, max_value=5000)),
    rank=st.integers(min_value=1, max_value=6),
    reduction=st.integers(min_value=0, max_value=100),
)
def test_price_is_never_negative_nor_above_the_bracket_price(price, qf, rank, reduction):
    value = rules.price_for(
        base_price_cents=price,
        qf_brackets=[],
        quotient_familial=qf,
        sibling_rank=rank,
        sibling_reduction_percent=reduction,
    )
    assert 0 <= value <= price
