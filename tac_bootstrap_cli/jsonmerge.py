"""Structural 3-way merge of JSON, for ``.claude/settings.json``: never text, never markers.

One implementation for every command that meets a settings file the user changed or had before:
``add-agentic``/``init --force`` (no base: both sides' content kept), ``render`` and ``upgrade``
(base: the template output recorded last time). Claude Code skips a settings file that does not
parse, hooks and the PreToolUse guard included, so the result is always parsed JSON re-serialised,
and a user's file that does not parse is never replaced.

- Objects merge key by key: the user's key order, keys only the template has after the key that
  precedes them in the template.
- Arrays whose elements all have an identity merge as sets of identities: a scalar is its own
  identity (``permissions.allow``/``deny``/``ask``, ``additionalDirectories``...), a hook matcher
  group is identified by its matcher, a hook by its type and command. Each identity gets its own
  3-way decision (so an entry the user removed never comes back, whatever the template does to
  the order; a changed hook command replaces the old one), elements on every side merge
  recursively, the template's order holds for its entries, and each user addition goes after the
  element that preceded it in the user's list (at the top when it was at the top).
- Other arrays merge by a diff3 over their elements (``merge.diff3_chunks``).
- A value both sides changed differently, or one side changed and the other removed, keeps the
  user's side and is reported as a ``Dispute``. With ``force`` the template's side wins instead
  and entries of ours the user removed come back, but nothing that is only the user's is dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tac_bootstrap_cli.merge import diff3_chunks, merge_text

MAX_DEPTH = 64  # settings files are a few levels deep; deeper input is refused, not recursed into


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()  # the value of a key or element that one side does not have

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Dispute:
    """A value both sides changed differently: the user's side was kept (``force``: ours).

    ``user`` and ``template`` are compact JSON; None means that side does not have the value.
    """

    path: str
    user: str | None
    template: str | None

    def describe(self) -> str:
        """One line: where, both values, and how to take ours."""
        where = self.path or "(the whole file)"
        if self.user is None:
            return f"{where}: you removed it, ours is {self.template} (add it back to take ours)"
        if self.template is None:
            return f"{where}: yours {self.user} kept; ours removes it (delete it to take ours)"
        return (
            f"{where}: yours {self.user} kept; ours is {self.template}"
            " (set it to that to take ours)"
        )


@dataclass(frozen=True)
class Merged:
    """A merged JSON value and the disputes met on the way."""

    value: Any
    disputes: tuple[Dispute, ...] = ()


@dataclass(frozen=True)
class Parsed:
    """Strictly parsed JSON, or why the bytes are not JSON (with line and column when known)."""

    value: Any = MISSING
    problem: str | None = None


@dataclass(frozen=True)
class SettingsMerge:
    """What to do with a settings file: the bytes to write, or why it is left as it is.

    ``content`` is None when the file must not be written (``problem`` says why); ``replaceable``
    says whether ``--force`` may replace it (a valid JSON file that is not an object).
    """

    content: bytes | None
    disputes: tuple[Dispute, ...] = ()
    problem: str | None = None
    replaceable: bool = False


# --- parsing and output -------------------------------------------------------------------------

_CONSTANT = re.compile(r"-?\b(?:NaN|Infinity)\b")


def parse_json(data: bytes) -> Parsed:
    """Parse ``data`` as Claude Code does: UTF-8, strict JSON (``NaN``/``Infinity`` are not JSON)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Parsed(problem=f"not UTF-8 text (byte {exc.start})")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return Parsed(problem=f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")
    except ValueError:  # NaN / Infinity
        found = _CONSTANT.search(text)
        at = found.start() if found else 0
        line, column = text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
        return Parsed(problem=f"not valid JSON: line {line}, column {column}: not a JSON number")
    except RecursionError:
        return Parsed(problem="not valid JSON here: nested too deeply")
    if _depth(value) > MAX_DEPTH:
        return Parsed(problem=f"nested more than {MAX_DEPTH} levels deep")
    return Parsed(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """Nesting depth, without recursion (what the merge would recurse into)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            todo.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            todo.extend((v, level + 1) for v in item)
    return deepest


def dump_json(value: Any) -> str:
    """The layout templates use for JSON files: two-space indent, non-ASCII kept, final newline."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _key(value: Any) -> str:
    """Canonical text of a value: equal JSON values, and only they, give equal keys (1 != 1.0 !=
    true, unlike Python's ``==``)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return _key(a) == _key(b)


def _exact(a: Any, b: Any) -> bool:
    """Equal including the order of keys (what decides whether bytes on disk can stay)."""
    return json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


def show_path(path: JsonPath) -> str:
    """``permissions.allow[2]``, ``hooks["my event"]``: where a value is, for people."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _dispute(path: JsonPath, user: Any, template: Any) -> Dispute:
    def shown(value: Any) -> str | None:  # compact, in the file's own key order
        if value is MISSING:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    return Dispute(show_path(path), shown(user), shown(template))


# --- values -------------------------------------------------------------------------------------


def merge_values(base: Any, user: Any, template: Any, *, force: bool = False) -> Merged:
    """Three-way merge of parsed JSON values (see the module docstring); ``base`` may be MISSING."""
    disputes: list[Dispute] = []
    value = _merge(base, user, template, (), force, disputes)
    return Merged(value, tuple(disputes))


def _merge(
    base: Any, user: Any, template: Any, path: JsonPath, force: bool, disputes: list[Dispute]
) -> Any:
    if _same(user, template):
        return user
    if _same(user, base):
        return template
    if _same(template, base) and not force:
        return user
    if template is MISSING or user is MISSING:
        return _merge_absent(base, user, template, path, force, disputes)
    if isinstance(user, dict) and isinstance(template, dict):
        old = base if isinstance(base, dict) else {}
        return _merge_objects(old, user, template, path, force, disputes)
    if isinstance(user, list) and isinstance(template, list):
        old_list = base if isinstance(base, list) else []
        return _merge_lists(old_list, user, template, path, force, disputes)
    if force:
        return template
    disputes.append(_dispute(path, user, template))
    return user


def _merge_absent(
    base: Any, user: Any, template: Any, path: JsonPath, force: bool, disputes: list[Dispute]
) -> Any:
    """A value one side does not have (any more), and the two sides differ."""
    if template is MISSING:  # the user added or changed it; the template does not have it (now)
        if base is not MISSING and not force:
            disputes.append(_dispute(path, user, MISSING))
        return user  # even forced: it holds the user's change
    # removed by the user
    if force:
        return template
    disputes.append(_dispute(path, MISSING, template))
    return MISSING


def _merge_objects(
    base: dict[str, Any],
    user: dict[str, Any],
    template: dict[str, Any],
    path: JsonPath,
    force: bool,
    disputes: list[Dispute],
) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key in [*user, *(k for k in template if k not in user)]:
        value = _merge(
            base.get(key, MISSING),
            user.get(key, MISSING),
            template.get(key, MISSING),
            (*path, key),
            force,
            disputes,
        )
        if value is not MISSING:
            merged[key] = value
    # Keys only the template has go right after the key that precedes them there (not all at
    # the end); the user's keys keep their order.
    top: list[str] = []
    after: dict[str, list[str]] = {}
    previous: str | None = None
    for key in template:
        if key not in merged:
            continue
        if key not in user:
            (after.setdefault(previous, []) if previous is not None else top).append(key)
        previous = key
    order = _chained([*top, *(k for k in user if k in merged)], after)
    return {key: merged[key] for key in order}


def _chained(heads: list[str], after: dict[str, list[str]]) -> list[str]:
    """``heads`` in order, each followed by what is anchored after it (and after that, ...);
    without recursion, as chains of additions can be long."""
    out: list[str] = []
    for head in heads:
        todo = [head]
        while todo:
            ident = todo.pop()
            out.append(ident)
            todo.extend(reversed(after.get(ident, [])))
    return out


def _identity(item: Any) -> str | None:
    """What an array element is known by across versions; None: only by its position."""
    if isinstance(item, dict):
        if isinstance(item.get("hooks"), list):  # a hook matcher group
            return "group:" + (_key(item["matcher"]) if "matcher" in item else "-")
        if "command" in item:  # a hook
            return "hook:" + _key(item.get("type")) + _key(item["command"])
        return None
    if isinstance(item, list):
        return None
    return "value:" + _key(item)


def _indexed(items: list[Any]) -> dict[str, tuple[int, Any]] | None:
    """identity -> (position, element); None when an element has no identity.

    Scalars form a set (a repeated entry counts once); objects with the same identity are told
    apart by their rank (two groups with the same matcher are legal)."""
    out: dict[str, tuple[int, Any]] = {}
    ranks: dict[str, int] = {}
    for position, item in enumerate(items):
        ident = _identity(item)
        if ident is None:
            return None
        if ident.startswith("value:"):
            out.setdefault(ident, (position, item))
            continue
        rank = ranks.get(ident, 0)
        ranks[ident] = rank + 1
        out[f"{ident}#{rank}"] = (position, item)
    return out


def _merge_lists(
    base: list[Any],
    user: list[Any],
    template: list[Any],
    path: JsonPath,
    force: bool,
    disputes: list[Dispute],
) -> list[Any]:
    old, mine, ours = _indexed(base), _indexed(user), _indexed(template)
    if old is None or mine is None or ours is None:
        return _merge_positional(base, user, template, path, force, disputes)
    merged: dict[str, Any] = {}
    for ident in [*mine, *(k for k in ours if k not in mine)]:
        position = (mine.get(ident) or ours[ident])[0]
        value = _merge(
            old[ident][1] if ident in old else MISSING,
            mine[ident][1] if ident in mine else MISSING,
            ours[ident][1] if ident in ours else MISSING,
            (*path, position),
            force,
            disputes,
        )
        if value is not MISSING:
            merged[ident] = value
    return [merged[k] for k in _place([k for k in ours if k in merged], list(mine), merged)]


def _place(kept: list[str], user_order: list[str], merged: dict[str, Any]) -> list[str]:
    """The template's entries (``kept``, in its order) with the user's own entries placed: each
    right after the entry that preceded it in the user's list, if that one is still there; else
    before the next one that is (at the top when it was first; at the end when none follows).

    Linear: anchors are found in one pass each way (a user's list may be long; settings files
    come from anyone)."""
    present = set(kept)
    # the next entry of ours (still there) after each position of the user's list
    following: list[str | None] = [None] * len(user_order)
    upcoming: str | None = None
    for index in range(len(user_order) - 1, -1, -1):
        following[index] = upcoming
        if user_order[index] in present:
            upcoming = user_order[index]
    top: list[str] = []
    end: list[str] = []
    before: dict[str, list[str]] = {}
    after: dict[str, list[str]] = {}
    anchor: str | None = None  # the last entry of the user's list seen that is in the result
    for index, ident in enumerate(user_order):
        if ident not in merged:
            continue
        if ident not in present:  # the user's own entry
            if anchor is not None:
                after.setdefault(anchor, []).append(ident)
            elif index == 0:
                top.append(ident)
            elif following[index] is not None:
                before.setdefault(str(following[index]), []).append(ident)
            else:
                end.append(ident)
        anchor = ident
    heads = [*top, *(x for ident in kept for x in (*before.get(ident, []), ident)), *end]
    return _chained(heads, after)


def _merge_positional(
    base: list[Any],
    user: list[Any],
    template: list[Any],
    path: JsonPath,
    force: bool,
    disputes: list[Dispute],
) -> list[Any]:
    """Arrays of elements without an identity: diff3 over the elements; two insertions at the
    same place both survive (the user's first); an element both sides changed merges inside;
    anything else makes the whole array one dispute."""
    values: dict[str, Any] = {}
    keys: list[list[str]] = []
    for seq in (base, user, template):
        row = []
        for item in seq:
            values.setdefault(_key(item), item)
            row.append(_key(item))
        keys.append(row)
    out: list[Any] = []
    found: list[Dispute] = []
    for chunk in diff3_chunks(*keys):
        resolved = chunk.resolved
        if resolved is not None:
            out.extend(values[k] for k in resolved)
        elif not chunk.base:
            out.extend(values[k] for k in chunk.ours)
            out.extend(values[k] for k in chunk.theirs if k not in chunk.ours)
        elif len(chunk.base) == len(chunk.ours) == len(chunk.theirs):
            for b, o, t in zip(chunk.base, chunk.ours, chunk.theirs, strict=True):
                at = (*path, len(out))
                out.append(_merge(values[b], values[o], values[t], at, force, found))
        else:
            if force:
                return template
            disputes.append(_dispute(path, user, template))
            return user
    disputes.extend(found)
    return out


# --- settings files -----------------------------------------------------------------------------


def merge_settings(
    base: bytes | None, current: bytes, template: bytes, *, force: bool = False
) -> SettingsMerge | None:
    """Merge the template's settings into the user's file (3-way from ``base``, or keeping both
    sides when there is none); None when the template output is not a JSON object (the caller
    treats the file as plain text then)."""
    ours = parse_json(template)
    if ours.problem is not None or not isinstance(ours.value, dict):
        return None
    mine = parse_json(current)
    if mine.problem is not None:
        return SettingsMerge(None, problem=mine.problem)
    if not isinstance(mine.value, dict):
        return SettingsMerge(
            template if force else None, problem="not a JSON object", replaceable=True
        )
    old = parse_json(base) if base is not None else Parsed()
    merged = merge_values(old.value, mine.value, ours.value, force=force)
    return SettingsMerge(_content(merged.value, old, base, current, template), merged.disputes)


def _content(value: Any, old: Parsed, base: bytes | None, current: bytes, template: bytes) -> bytes:
    """The bytes for ``value``: the user's or the template's when it is exactly theirs; else the
    text merge when it is clean and parses to exactly ``value`` (the user's layout kept); else
    ``value`` serialised like the template."""
    if _exact(value, parse_json(current).value):
        return current
    if _exact(value, parse_json(template).value):
        return template
    if base is not None and old.problem is None:
        try:
            texts = [x.decode("utf-8") for x in (base, current, template)]
        except UnicodeDecodeError:
            texts = []
        if texts:
            result = merge_text(*texts)
            if result.clean:
                again = parse_json(result.text.encode("utf-8"))
                if again.problem is None and _exact(again.value, value):
                    return result.text.encode("utf-8")
    return dump_json(value).encode("utf-8")
