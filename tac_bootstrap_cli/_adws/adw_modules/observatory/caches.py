"""What the store keeps between requests: bounded, least recently used first out."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Final

# What is kept between requests (least recently used dropped first): log summaries of phases and
# sessions, run listings (a page of run ids and the count), tasks of runs and Agents.
SUMMARIES_KEPT: Final = 256


LISTINGS_KEPT: Final = 32


TASKS_KEPT: Final = 4096


class _Bounded(OrderedDict[Any, Any]):
    """A dict that keeps its ``cap`` most recently used entries."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap

    def use(self, key: Any) -> Any:
        """The value of ``key`` (None if absent), now the most recently used."""
        if key not in self:
            return None
        self.move_to_end(key)
        return self[key]

    def keep(self, key: Any, value: Any) -> None:
        """Store ``value``; the least recently used entries go beyond the cap."""
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.cap:
            self.popitem(last=False)
