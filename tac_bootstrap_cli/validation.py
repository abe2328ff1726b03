"""Settings sections validated by hand: frozen dataclasses whose values follow Pydantic's lax
mode for the types ``config.yml`` uses, with Pydantic's messages (``"3"`` is the integer 3, a
string is never a number, unknown keys are refused), problems in field order with their keys.

``config.py`` declares its sections with these; ``tests/engine/test_config_oracle.py`` holds them
to the Pydantic models they replaced (importing Pydantic and building the models was ~70 ms of
every command that reads or writes a config).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

Loc = tuple[str | int, ...]


class ConfigInvalid(ValueError):
    """Answers that do not validate: each problem's place (keys from the top) and message, in
    the order of the fields."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{dotted(loc)}: {msg}" for loc, msg in problems))


def dotted(loc: Loc) -> str:
    """``("workflows", "on_failure", "retries")`` -> ``workflows.on_failure.retries``."""
    return ".".join(str(part) for part in loc)


class _Bad(Exception):
    """One value's problem: its message."""


# --- the value types: Pydantic's lax mode, as far as config.yml's types go ---------------------

_TEXT = "Input should be a valid string"
_INTEGER = "Input should be a valid integer"
_NUMBER = "Input should be a valid number"
_STR_KEYS = "Keys should be strings"
# What Pydantic strips around a number written as text: Unicode's White_Space. Python's own
# str.strip() also strips the separators \x1c-\x1f, which Pydantic refuses.
_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)
# An integer as text: digits with single underscores between them, and a zero fraction ("3.0").
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?", re.ASCII)
_NUMBER_TEXT = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:_[0-9]+)*(?:\.(?:[0-9]+(?:_[0-9]+)*)?)?|\.[0-9]+(?:_[0-9]+)*)"
    r"(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?|inf|infinity|nan)",
    re.ASCII | re.IGNORECASE,
)


def _decoded(value: bytes | bytearray, problem: str) -> str:
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise _Bad(problem) from None


def text(value: Any) -> str:
    """``str``: text, or UTF-8 bytes decoded."""
    if isinstance(value, str):
        return value if type(value) is str else str.__str__(value)  # a subclass: its text
    if isinstance(value, bytes | bytearray):
        return _decoded(value, f"{_TEXT}, unable to parse raw data as a unicode string")
    raise _Bad(_TEXT)


def optional_text(value: Any) -> str | None:
    """``str | None``."""
    return None if value is None else text(value)


def integer(value: Any) -> int:
    """``int``: an integer, a bool, a float without fraction, or the digits of one as text."""
    if isinstance(value, int):  # bool too: True is 1
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad("Input should be a finite number")
        if not value.is_integer():
            raise _Bad(f"{_INTEGER}, got a number with a fractional part")
        if not -(2.0**63) < value < 2.0**63:  # Pydantic's limit for a float taken as an integer
            raise _Bad(_TOO_LONG)
        return int(value)
    if isinstance(value, str | bytes):  # not bytearray, as in Pydantic
        text = _numeral(value, _INTEGER_TEXT, f"{_INTEGER}, unable to parse string as an integer")
        sign, digits = _signed(text.partition(".")[0].replace("_", ""))
        if len(digits) > _MAX_DIGITS:
            raise _Bad(_TOO_LONG)
        return int(sign + digits)
    raise _Bad(_INTEGER)


# Pydantic reads at most this many significant digits as an integer (and so can int()).
_MAX_DIGITS = 4300
_TOO_LONG = "Unable to parse input string as an integer, exceeded maximum size"


def _numeral(value: str | bytes, form: re.Pattern[str], unparsable: str) -> str:
    """The text of a number written as text (bytes decoded, spaces around it stripped), which
    must match ``form``; else ``unparsable``."""
    text = (value if isinstance(value, str) else _decoded(value, unparsable)).strip(_WHITESPACE)
    if not form.fullmatch(text):
        raise _Bad(unparsable)
    return text


def _signed(text: str) -> tuple[str, str]:
    """(sign, digits without leading zeros) of an integer's text."""
    sign = text[0] if text[0] in "+-" else ""
    return sign, text[len(sign) :].lstrip("0") or "0"


def number(value: Any) -> float:
    """``float``: a number, a bool, or a number written as text (``inf``/``nan`` too)."""
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise _Bad(_NUMBER) from None
    if isinstance(value, str | bytes):  # not bytearray, as in Pydantic
        text = _numeral(value, _NUMBER_TEXT, f"{_NUMBER}, unable to parse string as a number")
        return float(text.replace("_", ""))
    raise _Bad(_NUMBER)


def within(low: float, high: float) -> Callable[[float], float]:
    """A check of ``low <= value <= high`` (NaN fails the upper bound first, as in Pydantic)."""

    def check(value: float) -> float:
        if not value <= high:
            raise _Bad(f"Input should be less than or equal to {high:g}")
        if not value >= low:
            raise _Bad(f"Input should be greater than or equal to {low:g}")
        return value

    return check


def one_of(*options: str) -> Callable[[Any], str]:
    """A ``Literal`` of ``options``."""
    problem = "Input should be " + " or ".join(repr(o) for o in options)

    def check(value: Any) -> str:
        if isinstance(value, str) and value in options:
            return str(value)
        raise _Bad(problem)

    return check


def _mapping(value: Any, loc: Loc, problems: list[tuple[Loc, str]]) -> dict[str, Any] | None:
    """``dict[str, Any]``: text keys (bytes decoded), values as they are."""
    if not isinstance(value, Mapping):
        problems.append((loc, "Input should be a valid dictionary"))
        return None
    out: dict[str, Any] = {}
    fine = True
    for key, item in value.items():
        try:
            out[text(key)] = item
        except _Bad as bad:
            problems.append(((*loc, key, "[key]"), str(bad)))
            fine = False
    return out if fine else None


# --- sections ----------------------------------------------------------------------------------

Convert = Callable[[Any], Any]
# A field's own check, after its type: the value and the fields validated before it.
Check = Callable[[Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class Rule:
    """How one field validates: its type (``convert``), then its own ``check``; or a nested
    ``section``; neither: a ``dict[str, Any]``."""

    convert: Convert | None = None  # the type; None: ``section``, else a ``dict[str, Any]``
    check: Check | None = None
    section: type[Section] | None = None


class Section:
    """A frozen dataclass of validated settings: built from data (``from_data``), or by its
    constructor, which validates its arguments the same way."""

    RULES: ClassVar[dict[str, Rule]]

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        problems: list[tuple[Loc, str]] = []
        settled = _validate(type(self), values, (), problems)
        if settled is None:
            raise ConfigInvalid(problems)
        for name in values:
            object.__setattr__(self, name, getattr(settled, name))

    @classmethod
    def from_data(cls, data: Any) -> Any:
        """Validate plain data (``config.yml``'s) into this section; ``ConfigInvalid`` says why not."""
        problems: list[tuple[Loc, str]] = []
        settled = _section(cls, data, (), problems)
        if settled is None:
            raise ConfigInvalid(problems)
        return settled

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes``, validated like the constructor's arguments."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def _finish(self) -> None:
        """Fill what depends on several fields (after they all validated); ValueError if they do
        not fit together."""

    def to_data(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """Plain data in field order (what ``config.yml`` and the templates get)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and exclude_none:
                continue
            if isinstance(value, Section):
                out[f.name] = value.to_data(exclude_none=exclude_none)
            else:
                out[f.name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    """``value`` as Pydantic's JSON mode gives it: bytes as text, sets and tuples as lists, NaN
    and infinities as None, keys as text (``true``/``false`` for booleans)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, bytes | bytearray):
        return bytes(key).decode("utf-8", "replace")
    return str(key)


def _section(
    cls: type[Section], value: Any, loc: Loc, problems: list[tuple[Loc, str]]
) -> Section | None:
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        problems.append((loc, f"Input should be a valid dictionary or instance of {cls.__name__}"))
        return None
    return _validate(cls, value, loc, problems)


def _validate(
    cls: type[Section], data: Mapping[Any, Any], loc: Loc, problems: list[tuple[Loc, str]]
) -> Section | None:
    """The section ``data`` describes, or None with its problems added: fields in order, then
    unknown keys, then (all fine) the section's ``_finish``."""
    before = len(problems)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        where = (*loc, f.name)
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append((where, "Field required"))
            else:  # the section's own default, not validated again; later checks see it
                values[f.name] = _default(f)
            continue
        value = _field(cls, f, data[f.name], where, problems, values)
        if value is not _INVALID:
            values[f.name] = value
    problems.extend(
        ((*loc, key), "Extra inputs are not permitted" if isinstance(key, str) else _STR_KEYS)
        for key in data
        if key not in cls.RULES
    )
    if len(problems) > before:
        return None
    settled = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(settled, name, value)
    try:
        settled._finish()
    except ValueError as exc:
        problems.append((loc, str(exc)))
        return None
    return settled


_INVALID = object()


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _field(
    cls: type[Section],
    f: dataclasses.Field[Any],
    raw: Any,
    where: Loc,
    problems: list[tuple[Loc, str]],
    so_far: dict[str, Any],
) -> Any:
    """One field's validated value, or ``_INVALID`` with its problem added."""
    rule = cls.RULES[f.name]
    if rule.convert is None:
        value = (
            _section(rule.section, raw, where, problems)
            if rule.section is not None
            else _mapping(raw, where, problems)
        )
        return _INVALID if value is None else value
    try:
        value = rule.convert(raw)
        return rule.check(value, so_far) if rule.check is not None else value
    except _Bad as bad:
        problems.append((where, str(bad)))
    except ValueError as exc:
        problems.append((where, str(exc)))
    return _INVALID
