"""The shared cron module (``adws/adw_modules/adw_cron.py``) against croniter as the oracle."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from croniter import croniter
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli._adws.adw_modules import adw_cron

RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
NAMES = {3: ["jan", "Feb", "MAR", "oct"], 4: ["sun", "Mon", "fri", "SAT"]}


@st.composite
def parts(draw: st.DrawFn, index: int) -> str:
    low, high = RANGES[index]
    number = st.integers(low, high)
    kind = draw(
        st.sampled_from(["star", "n", "range", "star-step", "range-step", "n-step", "name"])
    )
    step = draw(st.integers(1, high - low + 1))
    if kind == "star":
        return "*"
    if kind == "name" and index in NAMES:
        return draw(st.sampled_from(NAMES[index]))
    if kind in ("n", "name"):
        return str(draw(number))
    if kind == "star-step":
        return f"*/{step}"
    a, b = sorted((draw(number), draw(number)))
    if a == b:  # croniter reads a one-value range `5-5` as `*` (a bug): covered apart below
        return str(a)
    if kind == "n-step":  # croniter reads `7/n` as `*`; we (and the docs) read it as Sunday
        return f"{min(a, 6) if index == 4 else a}/{step}"
    return f"{a}-{b}" + (f"/{step}" if kind == "range-step" else "")


@st.composite
def expressions(draw: st.DrawFn) -> str:
    fields = []
    for index in range(5):
        count = draw(st.integers(1, 3))
        fields.append(",".join(draw(parts(index)) for _ in range(count)))
    expression = " ".join(fields)
    # croniter is not consistent about a day field that lists every value without a bare `*`
    # (`0-6`, `*/1`): whether it counts as restricted depends on the other fields. POSIX and we
    # say restricted; those fields are left out of the comparison.
    schedule = adw_cron.parse(expression)
    for index, values, full in ((2, schedule.days, 31), (4, schedule.weekdays, 7)):
        assume("*" in fields[index].split(",") or len(values) < full)
    return expression


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@settings(max_examples=400, deadline=None)
@given(expressions(), moments)
def test_matches_like_croniter(expression: str, moment: datetime) -> None:
    assert adw_cron.parse(expression).matches(moment) == croniter.match(expression, moment)


@settings(max_examples=150, deadline=None)
@given(expressions(), moments)
def test_next_run_is_the_first_matching_minute(expression: str, moment: datetime) -> None:
    """``next_after`` finds the first minute croniter's ``match`` accepts. (Not compared with
    croniter's own ``get_next``: for `* * */2 * */1` it skips a day its ``match`` accepts.)"""
    schedule = adw_cron.parse(expression)
    try:
        found = schedule.next_after(moment)
    except adw_cron.CronError:  # no such date within the search window (only Feb 30...)
        assert not any(
            croniter.match(expression, datetime(2000 + y, m, 1) + timedelta(days=d))
            for y in range(0, 9, 4)
            for m in range(1, 13)
            for d in range(31)
        )
        return
    assert found > moment and croniter.match(expression, found)
    gap = int((found - moment).total_seconds() // 60)
    skipped = (moment + timedelta(minutes=i) for i in range(1, min(gap, 3 * 24 * 60)))
    assert not any(schedule.matches(m) for m in skipped)


@pytest.mark.parametrize(
    ("expression", "fires", "quiet"),
    [
        # Both day fields restricted: the 1st of the month OR any Monday (not only Monday 1sts).
        (
            "0 9 1 * 1",
            [datetime(2026, 12, 1, 9), datetime(2026, 12, 7, 9)],
            [datetime(2026, 12, 2, 9)],
        ),
        ("0 0 * * 7", [datetime(2026, 12, 6)], [datetime(2026, 12, 7)]),  # 7 is Sunday
        ("0 0 * * sun", [datetime(2026, 12, 6)], [datetime(2026, 12, 5)]),
        ("@daily", [datetime(2026, 12, 5)], [datetime(2026, 12, 5, 0, 1)]),
    ],
)
def test_documented_cases(expression: str, fires: list[datetime], quiet: list[datetime]) -> None:
    schedule = adw_cron.validate(expression)
    assert all(schedule.matches(m) for m in fires)
    assert not any(schedule.matches(m) for m in quiet)
    for moment in fires:
        assert schedule.next_after(moment - timedelta(minutes=1)) == moment


def test_one_value_range_is_that_value_unlike_croniter() -> None:
    """Where we differ from croniter on purpose: it expands `5-5` to every value; cron and we
    read it as 5."""
    assert adw_cron.parse("* * * * 5-5").weekdays == adw_cron.parse("* * * * 5").weekdays
    assert not adw_cron.parse("* * * * 5-5").matches(datetime(2026, 12, 6))  # a Sunday


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "5 fields"),
        ("60 * * * *", "minute: '60' is outside 0-59"),
        ("* * * * 8", "day-of-week: '8' is outside 0-7"),
        ("*/0 * * * *", "bad step"),
        ("5-2 * * * *", "runs backwards"),
        ("x * * * *", "not a number"),
        ("0 0 30 2 *", "never fires"),
        ("0 0 ٣ * *", "not a number"),  # a non-ASCII digit
    ],
)
def test_bad_schedules_say_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(adw_cron.CronError, match=message):
        adw_cron.validate(expression)
