"""How many records the generated tests' Factory can make per entity, and which tests fit them.

Records come from a ``Factory`` whose values are derived from each field's constraints
(``samples.py``). Record ``i`` of an entity takes value ``i % K`` of each field, so records stay
distinct on every unique set for ``lcm(K...)`` records; a test needing more records than an entity
(or a parent) can hold apart is left out, with a comment saying why (``simulate`` decides).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from tac_bootstrap_cli.modelgen.samples import valid_values
from tac_bootstrap_cli.modelgen.spec import EntitySpec, FieldSpec, ModelSpec

UNBOUNDED = 10**6


class RecordPlan:
    """Samples, capacities and record demand for every entity of a spec."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        # By name: ModelSpec.entity() scans the entities, once per ref that made emitting quadratic.
        self.by_name = {e.name: e for e in spec.entities}
        self.referenced = {f.to for e in spec.entities for f in e.fields if f.is_ref}
        self._unique_sets: dict[str, list[tuple[str, ...]]] = {}
        self._demands: dict[str, tuple[Counter[str], frozenset[str]]] = {}
        self._verdicts: dict[tuple[tuple[str, str], ...], str | None] = {}
        self.values: dict[str, dict[str, list[Any]]] = {}
        for entity in spec.entities:
            self.values[entity.name] = {
                f.name: valid_values(f)
                for f in entity.fields
                if not f.is_ref and not (f.primary_key and f.value_type == "int") and not f.auto_now
            }
        self.capacity = {e.name: self._capacity(e) for e in spec.entities}
        self._summarise()

    def entity(self, name: str) -> EntitySpec:
        """The entity called ``name``."""
        return self.by_name[name]

    def _parents(self, entity: EntitySpec) -> tuple[list[str], list[str]]:
        """The entities one ``data()`` call makes a new one of, and those it takes the shared one of."""
        fresh: list[str] = []
        shared: list[str] = []
        for f in entity.fields:
            if f.is_ref and not f.nullable and f.to is not None:
                (fresh if self.fresh_parent(entity, f) else shared).append(f.to)
        return fresh, shared

    def _summarise(self) -> None:
        """Per entity, in one pass over the refs: bounds that decide most ``simulate`` calls.

        ``peak``: at most this many records of any one entity per ``data()`` call (fresh parents
        included); ``floor``: the smallest capacity among them. ``closure``: over the shared
        parents it needs (made once per test, with their own parents), the smallest capacity and
        whether any of them makes fresh parents. Non-nullable refs never form a cycle (the spec
        refuses them), so a post-order walk (iterative: chains can be thousands deep) suffices.
        """
        self.peak: dict[str, int] = {}
        self.floor: dict[str, int] = {}
        self.closure: dict[str, tuple[int, bool, bool]] = {}  # (min capacity, fresh inside, any)
        self.member: dict[str, tuple[int, bool, bool]] = {}
        parents = {e.name: self._parents(e) for e in self.spec.entities}
        for root in self.spec.entities:
            stack: list[tuple[str, bool]] = [(root.name, False)]
            while stack:
                name, ready = stack.pop()
                if name in self.peak:
                    continue
                fresh, shared = parents[name]
                if not ready:
                    stack.append((name, True))
                    stack.extend((p, False) for p in (*fresh, *shared) if p not in self.peak)
                    continue
                self.peak[name] = max(1, sum(self.peak[p] for p in fresh))
                self.floor[name] = min([self.capacity[name], *(self.floor[p] for p in fresh)])
                parts = [self.member[p] for p in shared] + [self.closure[p] for p in fresh]
                self.closure[name] = _combine(parts)
                own = (self.floor[name], bool(fresh), True)
                self.member[name] = _combine([own, self.closure[name]])

    def unique_sets(self, entity: EntitySpec) -> list[tuple[str, ...]]:
        """Minimal unique sets: the key (unless int), unique fields, composites not implied by others."""
        if entity.name in self._unique_sets:
            return self._unique_sets[entity.name]
        sets: list[tuple[str, ...]] = []
        if entity.pk.value_type != "int":
            sets.append((entity.pk.name,))
        sets.extend((f.name,) for f in entity.fields if f.unique and not f.primary_key)
        sets.extend(entity.unique)
        # A set containing another is implied by it: a record that differs on the smaller one
        # differs on the larger one too.
        minimal = [
            columns
            for index, columns in enumerate(sets)
            if not any(
                set(other) < set(columns) or (set(other) == set(columns) and other_index < index)
                for other_index, other in enumerate(sets)
            )
        ]
        self._unique_sets[entity.name] = minimal
        return minimal

    def fresh_parent(self, entity: EntitySpec, ref: FieldSpec) -> bool:
        """True when each record needs its own parent (the ref is part of a unique set)."""
        return any(ref.name in columns for columns in self.unique_sets(entity))

    def _demand(self, name: str) -> tuple[Counter[str], frozenset[str]]:
        """Records one ``data(name)`` call makes fresh, and the entities it needs shared ones of."""
        stack = [name]
        while stack:  # parents first, without recursion (chains of refs can be very deep)
            current = stack[-1]
            fresh_parents, shared_parents = self._parents(self.entity(current))
            missing = [p for p in fresh_parents if p not in self._demands]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            fresh: Counter[str] = Counter({current: 1})
            shared: set[str] = set(shared_parents)
            for parent in fresh_parents:
                more, needs = self._demands[parent]
                fresh.update(more)
                shared.update(needs)
            self._demands[current] = (fresh, frozenset(shared))
        return self._demands[name]

    def size(self, entity: EntitySpec, name: str) -> int:
        """How many distinct values the factory gives a field (for uniqueness)."""
        f = entity.field(name)
        if f.is_ref or (f.primary_key and f.value_type == "int"):
            return UNBOUNDED  # fresh parents (or NULLs) and SQLite-assigned keys never repeat
        if f.auto_now:
            return 1  # create_many gives every row the same time
        return len(self.values[entity.name][name])

    def _capacity(self, entity: EntitySpec) -> int:
        """How many records the factory can make before a unique set repeats (0: not even one)."""
        for f in entity.fields:
            if f.name in self.values[entity.name] and not self.values[entity.name][f.name]:
                return 0
        capacity = UNBOUNDED
        for columns in self.unique_sets(entity):
            sizes = [self.size(entity, name) for name in columns]
            capacity = min(capacity, min(UNBOUNDED, math.lcm(*sizes)))
        return capacity

    def testable_unique_sets(self, entity: EntitySpec) -> list[tuple[str, ...]]:
        """Unique sets a second create can break by copying the first record's values.

        Not those with a nullable ref (the factory leaves it NULL, and NULLs never collide), an
        auto_now field or an SQLite-assigned key (create sets those itself).
        """
        return [
            columns
            for columns in self.unique_sets(entity)
            if not any(
                (f.is_ref and f.nullable) or f.auto_now or (f.primary_key and f.value_type == "int")
                for f in map(entity.field, columns)
            )
        ]

    def simulate(self, calls: list[tuple[str, str]]) -> str | None:
        """Replay factory calls ("data"/"new"/"shared", entity); why they cannot all succeed, or None."""
        key = tuple(calls)
        if key not in self._verdicts:
            self._verdicts[key] = None if self._surely_fits(calls) else self._replay(calls)
        return self._verdicts[key]

    def _surely_fits(self, calls: list[tuple[str, str]]) -> bool:
        """True when the per-entity bounds prove that every count stays within its capacity.

        A record of one entity is made at most ``peak`` times per data/new call, and at most once
        by the shared parents when none of them makes fresh parents of its own. Deciding this in
        constant time per call is what keeps emitting linear in the spec (replaying a call walks
        its whole chain of parents).
        """
        most, least, fresh_inside, any_shared = 0, UNBOUNDED, False, False
        for kind, name in calls:
            if kind == "shared":
                low, inside, some = self.member[name]
            else:
                most += self.peak[name]
                least = min(least, self.floor[name])
                low, inside, some = self.closure[name]
            least = min(least, low)
            fresh_inside = fresh_inside or inside
            any_shared = any_shared or some
        return not fresh_inside and most + any_shared <= least

    def _replay(self, calls: list[tuple[str, str]]) -> str | None:
        """``simulate`` exactly: count the records of every entity the calls make."""
        counts: Counter[str] = Counter()
        created: set[str] = set()
        pending: list[str] = []
        for kind, name in calls:
            if kind == "shared":
                pending.append(name)
                continue
            fresh, needs = self._demand(name)
            counts.update(fresh)
            pending.extend(needs)
        while pending:  # each shared parent is made once, with its own (fresh and shared) parents
            name = pending.pop()
            if name in created:
                continue
            created.add(name)
            fresh, needs = self._demand(name)
            counts.update(fresh)
            pending.extend(needs)
        for name, count in sorted(counts.items()):
            if count > self.capacity[name]:
                if self.capacity[name] == 0:
                    return f"no valid example values could be derived for {name}"
                return f"{name} can hold only {self.capacity[name]} distinct record(s) apart"
        return None


def _combine(parts: list[tuple[int, bool, bool]]) -> tuple[int, bool, bool]:
    """Closure summaries merged: smallest capacity, fresh parents anywhere, anything at all.

    Min and "or" give the same result however often a shared parent is reached, so the summary
    of a union is the merge of the summaries.
    """
    return (
        min([UNBOUNDED, *(p[0] for p in parts)]),
        any(p[1] for p in parts),
        any(p[2] for p in parts),
    )
