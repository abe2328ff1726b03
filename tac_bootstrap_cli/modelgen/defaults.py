"""Field defaults: a spec's ``default:`` value checked against its field, turned into a ``Default``.

A default must be a value the generated model itself accepts (type, bounds, lengths, pattern, enum
values), so a record created without the field is valid; a message says why one is not.
"""

from __future__ import annotations

import datetime
import math
import re
import uuid
from collections.abc import Callable
from typing import Any

from tac_bootstrap_cli.modelgen.rawspec import RawField
from tac_bootstrap_cli.modelgen.spec import INT64_MAX, INT64_MIN, Default
from tac_bootstrap_cli.modelgen.yamlnodes import exponent_hint, short


def default_for(raw: RawField, kind: str, value: Any) -> Default | str | None:
    """The Default for ``value``, or a message saying why it does not fit the field."""
    if raw.type == "ref":
        return "a ref takes no default (leave it out, or make the field nullable)"
    if raw.get("primary_key"):
        if kind == "uuid" and value == "uuid4":
            return Default("uuid4")
        who = {"int": "SQLite assigns it", "str": "the caller gives it"}.get(kind, "")
        return f"a primary key takes no default ({who})" if who else "only uuid4 is allowed"
    if value is None:
        return None if raw.get("nullable") else "null needs nullable: true"
    check = _KIND_DEFAULTS.get(kind)
    return check(raw, value) if check is not None else f"unsupported default for a {kind} field"


def _text_default(raw: RawField, value: Any) -> Default | str:
    if not isinstance(value, str):
        return f"{value!r} is not a string (quote it)"
    return _string_default(raw, value)


def _int_default(raw: RawField, value: Any) -> Default | str:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{value!r} is not an integer"
    return _number_default(raw, value)


def _float_default(raw: RawField, value: Any) -> Default | str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{short(repr(value))} is not a number{exponent_hint(value)}"
    try:
        number = float(value)
    except OverflowError:
        return f"{short(repr(value))} is too large for a float"
    if not math.isfinite(number):
        return f"{value!r} is not a finite number"
    return _number_default(raw, number)


def _bool_default(_raw: RawField, value: Any) -> Default | str:
    return Default("literal", value) if isinstance(value, bool) else "expected true or false"


def _uuid_default(_raw: RawField, value: Any) -> Default | str:
    if value == "uuid4":
        return Default("uuid4")
    try:
        return Default("literal", uuid.UUID(str(value)))
    except ValueError:
        return f"{value!r} is not a UUID (or uuid4)"


def _enum_default(raw: RawField, value: Any) -> Default | str:
    values = raw.get("values") or ()
    if value not in values:
        return f"{value!r} is not one of the values ({', '.join(values)})"
    return Default("literal", value)


def _string_default(raw: RawField, value: str) -> Default | str:
    min_length, max_length = raw.get("min_length"), raw.get("max_length")
    if min_length is not None and len(value) < min_length:
        return f"{value!r} is shorter than min_length {min_length}"
    if max_length is not None and len(value) > max_length:
        return f"{value!r} is longer than max_length {max_length}"
    pattern = raw.get("pattern")
    if pattern is not None and re.search(pattern, value) is None:
        return f"{value!r} does not match the pattern {pattern!r}"
    return Default("literal", value)


def _number_default(raw: RawField, value: int | float) -> Default | str:
    for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        bound = raw.get(key)
        if bound is not None and not _within(value, key, bound):
            return f"{value!r} is outside the bounds (must be {sign} {bound!r})"
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        return f"{value!r} is outside SQLite's 64-bit integer range"
    return Default("literal", value)


def _within(value: float, key: str, bound: float) -> bool:
    """True when ``value`` satisfies the bound ``key`` (ge, gt, le, lt) at ``bound``."""
    if key == "ge":
        return value >= bound
    if key == "gt":
        return value > bound
    if key == "le":
        return value <= bound
    return value < bound


def _datetime_default(value: Any) -> Default | str:
    if value == "now":
        return Default("now")
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not an ISO 8601 datetime (or now)"
    else:
        return f"{value!r} is not a datetime (or now)"
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return Default("literal", moment.astimezone(datetime.UTC))
    except OverflowError:
        return f"{value!r} is out of range in UTC"


def _date_default(value: Any) -> Default | str:
    if value == "now":
        return Default("now")
    if isinstance(value, datetime.datetime):
        return f"{value!r} is a datetime; give a date (YYYY-MM-DD)"
    if isinstance(value, datetime.date):
        return Default("literal", value)
    if isinstance(value, str):
        try:
            return Default("literal", datetime.date.fromisoformat(value))
        except ValueError:
            return f"{value!r} is not an ISO 8601 date (or now)"
    return f"{value!r} is not a date (or now)"


def _json_default(value: Any) -> Default | str:
    if value == {}:
        return Default("empty_object")
    if value == []:
        return Default("empty_array")
    problem = _json_problem(value)
    return f"{problem}" if problem else Default("literal", value)


def _json_problem(value: Any, depth: int = 0) -> str | None:
    if depth > 32:
        return "the JSON value is nested too deeply"
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a JSON number"
    if isinstance(value, list):
        return next((p for p in (_json_problem(v, depth + 1) for v in value) if p), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"JSON object key {key!r} is not a string (quote it)"
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"{value!r} is not a JSON value (quote dates and times)"


# How a default is checked, by the field's kind (a kind not here takes no default).
_KIND_DEFAULTS: dict[str, Callable[[RawField, Any], Default | str]] = {
    "str": _text_default,
    "text": _text_default,
    "int": _int_default,
    "float": _float_default,
    "bool": _bool_default,
    "uuid": _uuid_default,
    "datetime": lambda _raw, value: _datetime_default(value),
    "date": lambda _raw, value: _date_default(value),
    "json": lambda _raw, value: _json_default(value),
    "enum": _enum_default,
}
