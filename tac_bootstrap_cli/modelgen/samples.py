"""Example values for the generated tests: valid and distinct per field, and invalid ones per constraint.

Everything here is deterministic (fixed seeds), so regenerating gives the same tests.
"""

from __future__ import annotations

import datetime
import importlib
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tac_bootstrap_cli.modelgen.common import applied_bounds
from tac_bootstrap_cli.modelgen.spec import INT64_MAX, INT64_MIN, FieldSpec

# How many distinct values a field offers when its domain allows (records per test stay below).
SAMPLES = 6
_NAMESPACE = uuid.UUID("5b0c1f2e-7d3a-4c55-9a61-0d6f3c8e2b47")
_BASE_TIME = datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC)
_JSON_SAMPLES: tuple[Any, ...] = (
    {"n": 0, "tags": ["a", "é"], "nested": {"ok": True, "ratio": 0.25, "none": None}},
    [1, "two", 3.5, False, None],
    "text",
    42,
    {"n": 4},
    [],
)
_NOT_A_VALUE = "__not_a_value__"
# Example strings stay short: a longer min_length or a huge repetition (``x{100000000}``) gives no
# example (the tests needing one are left out with a comment) instead of exhausting memory.
_MAX_EXAMPLE_LENGTH = 10_000
# Steps of the regex example generator: per example, and for all attempts at one pattern.
_MAX_STEPS = 20_000
_MAX_TOTAL_STEPS = 200_000

# re's own parser (the one re.compile uses): the examples follow exactly the syntax it accepts.
_parser: Any = importlib.import_module("re._parser")


def valid_values(field: FieldSpec) -> list[Any]:
    """Up to SAMPLES distinct valid values of a (non-ref) field, in a fixed order; empty if none found."""
    kind = field.value_type
    if kind in ("str", "text"):
        return _strings(field)
    if kind == "int":
        return _ints(field)
    if kind == "float":
        return _floats(field)
    if kind == "bool":
        return [True, False]
    if field.type == "enum":
        return list(field.values[:SAMPLES])
    if kind == "uuid":
        return [uuid.uuid5(_NAMESPACE, f"{field.name}.{j}") for j in range(SAMPLES)]
    if kind == "datetime":
        return [_BASE_TIME + datetime.timedelta(days=j, seconds=j) for j in range(SAMPLES)]
    if kind == "date":
        return [_BASE_TIME.date() + datetime.timedelta(days=j) for j in range(SAMPLES)]
    if kind == "json":
        return list(_JSON_SAMPLES)
    raise ValueError(f"no samples for a {kind} field")


def _length_ok(field: FieldSpec, text: str) -> bool:
    if field.min_length is not None and len(text) < field.min_length:
        return False
    return field.max_length is None or len(text) <= field.max_length


def _strings(field: FieldSpec) -> list[str]:
    if (field.min_length or 0) > _MAX_EXAMPLE_LENGTH:
        return []
    if field.pattern is not None:
        return regex_examples(field.pattern, field, SAMPLES)
    found: list[str] = []
    prefix = ("s3cr3t-" if field.secret else "") + field.name.replace("_", "-")[:24] + "-"
    for j in range(SAMPLES):
        digits = str(j)
        text = prefix + digits
        if field.min_length is not None and len(text) < field.min_length:
            text = prefix + "x" * (field.min_length - len(text)) + digits
        if field.max_length is not None and len(text) > field.max_length:
            text = text[len(text) - field.max_length :]
        if _length_ok(field, text) and text not in found:
            found.append(text)
    return found


def _int_range(field: FieldSpec) -> tuple[int, int]:
    low = INT64_MIN
    high = INT64_MAX
    if field.ge is not None:
        low = math.ceil(field.ge)
    if field.gt is not None:
        low = math.floor(field.gt) + 1
    if field.le is not None:
        high = math.floor(field.le)
    if field.lt is not None:
        high = math.ceil(field.lt) - 1
    return low, high


def _ints(field: FieldSpec) -> list[int]:
    low, high = _int_range(field)
    has_low = field.ge is not None or field.gt is not None
    has_high = field.le is not None or field.lt is not None
    if has_low:
        start = low
    elif has_high:
        start = max(low, high - SAMPLES + 1)
    else:
        start = 1
    return [v for v in range(start, start + SAMPLES) if low <= v <= high]


def _float_ok(field: FieldSpec, value: float) -> bool:
    return math.isfinite(value) and all(
        bound is None or test
        for bound, test in (
            (field.ge, field.ge is not None and value >= field.ge),
            (field.gt, field.gt is not None and value > field.gt),
            (field.le, field.le is not None and value <= field.le),
            (field.lt, field.lt is not None and value < field.lt),
        )
    )


def _float_candidates(low: float | None, high: float | None) -> list[float]:
    """``SAMPLES`` floats spread between the bounds (or next to the one there is)."""
    if low is not None and high is not None:
        if low == high:
            return [float(low)]
        # Divided first: ``high - low`` overflows to inf when the bounds are near ±1.8e308.
        step = float(high) / (SAMPLES + 1) - float(low) / (SAMPLES + 1)
        return [float(low) + step * (j + 1) for j in range(SAMPLES)]
    if low is not None:
        return [float(low) + 0.5 + j for j in range(SAMPLES)]
    if high is not None:
        return [float(high) - 0.5 - j for j in range(SAMPLES)]
    return [0.5 + j for j in range(SAMPLES)]


def _floats(field: FieldSpec) -> list[float]:
    field = applied_bounds(field)
    low = field.ge if field.ge is not None else field.gt
    high = field.le if field.le is not None else field.lt
    found: list[float] = []
    for value in _float_candidates(low, high):
        if _float_ok(field, value) and value not in found:
            found.append(value)
    edge = low if low is not None else high
    if len(found) < SAMPLES and edge is not None:
        # Near a huge bound ``1e308 + 0.5 == 1e308``, and two close bounds leave few floats:
        # walk the floats next to a bound inward (the CHECK bounds are exact, see emit_schema).
        value = float(edge)
        toward = math.inf if low is not None else -math.inf
        for _ in range(4 * SAMPLES):
            if _float_ok(field, value) and value not in found:
                found.append(value)
                if len(found) == SAMPLES:
                    break
            value = math.nextafter(value, toward)
    return found


@dataclass(frozen=True)
class Invalid:
    """A value that must be refused, and whether the database refuses it too (a CHECK)."""

    field: str
    value: Any  # a Python value; ``Repeat`` for long strings
    database: bool  # True when a CHECK constraint (not only Pydantic) refuses it


@dataclass(frozen=True)
class Repeat:
    """The string ``char * count`` (written as that expression in the tests)."""

    char: str
    count: int


def invalid_values(field: FieldSpec) -> list[Invalid]:
    """Values that break the field's constraints (one per constraint kind), plus a wrong type."""
    found: list[Invalid] = []
    kind = field.value_type
    name = field.name
    if field.type == "enum":
        value = _NOT_A_VALUE
        while value in field.values:
            value += "_"
        found.append(Invalid(name, value, True))
    elif kind == "bool":
        found.append(Invalid(name, "maybe", False))
        found.append(Invalid(name, 2, True))
    elif kind in ("int", "float"):
        found.extend(_out_of_bounds(field))
        found.append(Invalid(name, "not a number", False))
    elif kind in ("str", "text") and not field.is_ref:
        found.extend(_invalid_strings(field))
    elif kind in _WRONG_TYPE:
        found.append(Invalid(name, _WRONG_TYPE[kind], False))
    return found


# A string of the wrong shape for the kinds that are strings on the wire.
_WRONG_TYPE = {"uuid": "not-a-uuid", "datetime": "not a datetime", "date": "not a date"}


def _invalid_strings(field: FieldSpec) -> list[Invalid]:
    """A string one longer than max_length, one shorter than min_length, one the pattern refuses."""
    found: list[Invalid] = []
    if field.max_length is not None:
        found.append(Invalid(field.name, Repeat("x", field.max_length + 1), True))
    if field.min_length:
        found.append(Invalid(field.name, Repeat("x", field.min_length - 1), True))
    if field.pattern is not None:
        bad = regex_counterexample(field.pattern, field)
        if bad is not None:
            found.append(Invalid(field.name, bad, False))
    return found


def _out_of_bounds(field: FieldSpec) -> list[Invalid]:
    if field.value_type == "float":
        return _float_out_of_bounds(field)
    found: list[Invalid] = []
    if field.ge is not None:
        found.append(Invalid(field.name, field.ge - 1, True))
    elif field.gt is not None:
        found.append(Invalid(field.name, field.gt, True))
    if field.le is not None:
        found.append(Invalid(field.name, field.le + 1, True))
    elif field.lt is not None:
        found.append(Invalid(field.name, field.lt, True))
    # At SQLite's 64-bit limits ``x ± 1`` is no longer an int the column could hold.
    return [i for i in found if INT64_MIN <= i.value <= INT64_MAX]


def _below(bound: float, strictly: bool) -> float:
    """The float just outside a lower bound: below it (``strictly``) or at most equal to it.

    Compared exactly (Python compares int and float exactly): ``-1e308 - 1.0 == -1e308`` and
    ``float(2**63 - 1) > 2**63 - 1``, so a step of 1.0 or a conversion alone can land inside.
    """
    value = float(bound) - 1.0 if strictly else float(bound)
    while value > bound or (strictly and value == bound):
        value = math.nextafter(value, -math.inf)
    return value


def _above(bound: float, strictly: bool) -> float:
    """The float just outside an upper bound (see ``_below``)."""
    value = float(bound) + 1.0 if strictly else float(bound)
    while value < bound or (strictly and value == bound):
        value = math.nextafter(value, math.inf)
    return value


def _float_out_of_bounds(field: FieldSpec) -> list[Invalid]:
    field = applied_bounds(field)
    values: list[float] = []
    if field.ge is not None:
        values.append(_below(field.ge, strictly=True))
    elif field.gt is not None:
        values.append(_below(field.gt, strictly=False))
    if field.le is not None:
        values.append(_above(field.le, strictly=True))
    elif field.lt is not None:
        values.append(_above(field.lt, strictly=False))
    # Past ±1.8e308 there is only inf, which allow_inf_nan=False refuses for another reason.
    return [Invalid(field.name, v, True) for v in values if math.isfinite(v)]


# --- regex examples ---------------------------------------------------------------------------------


class _GiveUp(Exception):
    """The pattern uses something the example generator cannot produce."""


_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": "0123456789",
    "CATEGORY_NOT_DIGIT": "aZ_-x",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "aZ0_-",
    "CATEGORY_WORD": "aZ0_b",
    "CATEGORY_NOT_WORD": "- .!",
}
_PRINTABLE = "abcxyzABCXYZ0123456789_- .!@"


class _Examples:
    """Builds one string matching a parsed pattern; ``rng`` picks among the choices."""

    def __init__(self, rng: random.Random, minimal: bool, stretch: int) -> None:
        self.rng = rng
        self.minimal = minimal
        self.stretch = stretch
        self.groups: dict[int, str] = {}
        self.steps = 0

    def pick(self, options: str | list[Any]) -> Any:
        if not options:
            raise _GiveUp
        return options[0] if self.minimal else self.rng.choice(options)

    def emit(self, items: Any) -> str:
        return "".join(self.item(op, av) for op, av in items)

    def item(self, op: Any, av: Any) -> str:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise _GiveUp
        build = _ITEMS.get(str(op))
        if build is None:
            raise _GiveUp
        return build(self, av)

    def repeat(self, av: Any) -> str:
        low, high, sub = av
        high = low + 50 if high == _parser.MAXREPEAT else high
        count = self._repeat_count(low, high)
        if low > _MAX_EXAMPLE_LENGTH:
            raise _GiveUp
        parts: list[str] = []
        total = 0
        for _ in range(count):
            part = self.emit(sub)
            total += len(part)
            if total > _MAX_EXAMPLE_LENGTH:
                raise _GiveUp
            parts.append(part)
        return "".join(parts)

    def _repeat_count(self, low: int, high: int) -> int:
        if self.minimal:
            return low
        if self.stretch and high > low:
            return min(high, max(low, self.stretch))
        return self.rng.randint(low, min(high, low + 3))

    def subpattern(self, av: Any) -> str:
        group, _add, _del, sub = av
        text = self.emit(sub)
        if group is not None:
            self.groups[group] = text
        return text

    def groupref_exists(self, av: Any) -> str:
        group, yes, no = av
        if group in self.groups:
            return self.emit(yes)
        return self.emit(no) if no is not None else ""

    def char_in(self, items: Any) -> str:
        negate = False
        chars: list[str] = []
        for op, av in items:
            name = str(op)
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                chars.append(chr(av))
            elif name == "RANGE":
                low, high = av
                chars.extend(chr(c) for c in sorted({low, (low + high) // 2, high}))
            elif name == "CATEGORY":
                chars.extend(_CATEGORY_CHARS.get(str(av), ""))
        if negate:
            # Membership must be tested with the whole class, not the sampled characters.
            pattern = re.compile("[" + "".join(re.escape(c) for c in chars) + "]")
            chars = [c for c in _PRINTABLE if not pattern.match(c)] if chars else list(_PRINTABLE)
        return str(self.pick(chars))


# How each node of a parsed pattern becomes text (sre_parse's node names).
_ITEMS: dict[str, Callable[[_Examples, Any], str]] = {
    "LITERAL": lambda _ex, av: chr(av),
    "NOT_LITERAL": lambda ex, av: str(ex.pick([c for c in _PRINTABLE if ord(c) != av])),
    "ANY": lambda ex, _av: str(ex.pick(_PRINTABLE)),
    "IN": _Examples.char_in,
    "MAX_REPEAT": _Examples.repeat,
    "MIN_REPEAT": _Examples.repeat,
    "POSSESSIVE_REPEAT": _Examples.repeat,
    "SUBPATTERN": _Examples.subpattern,
    "ATOMIC_GROUP": _Examples.emit,
    "BRANCH": lambda ex, av: ex.emit(ex.pick(list(av[1]))),
    "AT": lambda _ex, _av: "",
    "ASSERT": lambda _ex, _av: "",
    "ASSERT_NOT": lambda _ex, _av: "",
    "GROUPREF": lambda ex, av: ex.groups.get(av, ""),
    "GROUPREF_EXISTS": _Examples.groupref_exists,
}


def regex_examples(pattern: str, field: FieldSpec, want: int) -> list[str]:
    """Up to ``want`` distinct strings that ``re.search`` finds the pattern in and fit the lengths."""
    compiled = re.compile(pattern)
    try:
        parsed = _parser.parse(pattern)
    except Exception:  # the spec already compiled it; anything odd here just means no examples
        return []
    stretch = field.min_length or 0
    found: list[str] = []
    steps = 0
    for variant in range(300):
        if steps > _MAX_TOTAL_STEPS:
            break
        rng = random.Random(variant)
        maker = _Examples(rng, minimal=variant == 0, stretch=stretch if variant % 3 == 2 else 0)
        try:
            text = maker.emit(parsed)
        except (_GiveUp, RecursionError, ValueError):
            continue
        finally:
            steps += maker.steps
        if text in found or not _length_ok(field, text) or compiled.search(text) is None:
            continue
        if "\x00" in text:
            continue
        found.append(text)
        if len(found) >= want:
            break
    return found


def regex_counterexample(pattern: str, field: FieldSpec) -> str | None:
    """A string the pattern is not found in (one that fits the lengths when possible), or None."""
    compiled = re.compile(pattern)
    length = max(field.min_length or 1, 1)
    candidates = ["!" * length, " " * length, "~" * length, "0" * length, "a" * length, "", "!"]
    misses = [c for c in candidates if compiled.search(c) is None]
    fitting = [c for c in misses if _length_ok(field, c)]
    if fitting:
        return fitting[0]
    return misses[0] if misses else None
