"""Cron schedules (five fields) with croniter's semantics, standard library only.

One implementation for both sides: tac-bootstrap validates ``workflows.cron`` of ``config.yml``
with it, and the generated ``adws/adw_triggers/trigger_cron.py`` fires by it (this file is copied
into every project as ``adws/adw_modules/adw_cron.py``). croniter itself would cost ~50 ms of
imports on every config load; the tests check this module against it as the oracle.

Grammar: ``minute hour day-of-month month day-of-week``; each field a comma list of ``*``, a
number, a name (``jan``-``dec``, ``sun``-``sat``, any case) or a range ``a-b``, each optionally
with a step ``/n`` (``5/15`` = ``5-<max>/15``); day-of-week 0-7, where both 0 and 7 are Sunday;
and the nicknames ``@yearly``, ``@annually``, ``@monthly``, ``@weekly``, ``@daily``,
``@midnight``, ``@hourly``.

Day-of-month and day-of-week: when both are restricted a day matches if *either* matches, as
croniter and POSIX say; when one of them has a bare ``*`` among its parts, the other alone
decides. A field is restricted unless it has that bare ``*``: ``1-31`` and ``*/1`` are
restricted, as in croniter. Vixie cron differs in one corner: it treats a field that merely
*starts* with ``*`` (``*/2``) as unrestricted. We differ from croniter in one: it reads a
one-value range (``5-5``) as ``*``; here, as in cron, it is that one value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

FIELDS: Final = ("minute", "hour", "day-of-month", "month", "day-of-week")
_RANGES: Final = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES: Final[dict[int, dict[str, int]]] = {
    3: {
        m: i
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
        )
    },
    4: {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
}
NICKNAMES: Final = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# A year holds every minute a valid schedule can name except Feb 29, which recurs within 8 years
# (2100 is not a leap year, so a start just before it needs the extra 4).
_SEARCH_LIMIT: Final = timedelta(days=366 * 9)


class CronError(ValueError):
    """A malformed cron schedule; the message names the field and what is wrong."""


@dataclass(frozen=True)
class Schedule:
    """The minutes, hours, days, months and weekdays (0 = Sunday) a schedule allows."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_or_weekdays: bool  # both day fields restricted: a day matches if either does

    def matches(self, moment: datetime) -> bool:
        """True when ``moment`` (to the minute) is on the schedule."""
        if (
            moment.minute not in self.minutes
            or moment.hour not in self.hours
            or moment.month not in self.months
        ):
            return False
        day = moment.day in self.days
        weekday = (moment.weekday() + 1) % 7 in self.weekdays  # Python: 0 = Monday
        return (day or weekday) if self.days_or_weekdays else (day and weekday)

    def next_after(self, moment: datetime) -> datetime:
        """The first minute strictly after ``moment`` that is on the schedule."""
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = candidate + _SEARCH_LIMIT
        while candidate < limit:
            if candidate.month not in self.months:
                year, month = candidate.year + candidate.month // 12, candidate.month % 12 + 1
                candidate = candidate.replace(year=year, month=month, day=1, hour=0, minute=0)
            elif not self._day_ok(candidate):
                candidate = candidate.replace(hour=0, minute=0) + timedelta(days=1)
            elif candidate.hour not in self.hours:
                candidate = candidate.replace(minute=0) + timedelta(hours=1)
            elif candidate.minute not in self.minutes:
                candidate += timedelta(minutes=1)
            else:
                return candidate
        raise CronError(f"{self.expression!r} never fires (e.g. day 31 in a 30-day month only)")

    def _day_ok(self, moment: datetime) -> bool:
        day = moment.day in self.days
        weekday = (moment.weekday() + 1) % 7 in self.weekdays
        return (day or weekday) if self.days_or_weekdays else (day and weekday)


def _number(text: str, index: int) -> int:
    names = _NAMES.get(index, {})
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit() or not text.isascii():
        raise CronError(f"{FIELDS[index]}: {text!r} is not a number")
    return int(text)


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _RANGES[index]
    values: set[int] = set()
    for part in text.split(","):
        body, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or not step_text.isascii() or int(step_text) == 0:
                raise CronError(f"{FIELDS[index]}: bad step in {part!r}")
            step = int(step_text)
        # `*` and `n/step` run to Saturday: 7 only exists as a spelling of Sunday.
        last = 6 if index == 4 else high
        if body == "*":
            start, end = low, last
        elif "-" in body:
            first, _, final = body.partition("-")
            start, end = _number(first, index), _number(final, index)
        else:
            start = _number(body, index)
            end = max(last, start) if slash else start  # "5/15" = 5 to the end, every 15
        if not (low <= start <= high and low <= end <= high):
            raise CronError(f"{FIELDS[index]}: {part!r} is outside {low}-{high}")
        if start > end:
            raise CronError(f"{FIELDS[index]}: range {part!r} runs backwards")
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:  # 7 is Sunday too
        values = (values - {7}) | {0}
    return frozenset(values)


def parse(expression: str) -> Schedule:
    """The schedule of a cron expression; ``CronError`` says what is wrong with a bad one."""
    text = NICKNAMES.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise CronError(
            f"{expression!r} must have 5 fields (minute hour day-of-month month day-of-week)"
        )
    minutes, hours, days, months, weekdays = (_field(f, i) for i, f in enumerate(fields))
    # A day field with a bare `*` among its parts is unrestricted (croniter's rule; `1-31` and
    # `*/1` cover the same days but count as restricted).
    restricted = ["*" not in fields[i].split(",") for i in (2, 4)]
    return Schedule(expression, minutes, hours, days, months, weekdays, all(restricted))


def validate(expression: str) -> Schedule:
    """``parse``, and also refuse a schedule that can never fire (``0 0 30 2 *``)."""
    schedule = parse(expression)
    schedule.next_after(datetime(2000, 1, 1))  # 2000 is a leap year: Feb 29 counts
    return schedule


__all__ = ["FIELDS", "NICKNAMES", "CronError", "Schedule", "parse", "validate"]
