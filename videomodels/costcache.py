"""A bounded least-recently-used map that counts its hits and misses.

The cost walk keeps one per process: a node's cost is a pure function of its key, and the
counts let tests check that an edit re-costs only what it changed.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable


class CountingLRU:
    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        value = self.entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self.entries.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self.entries[key] = value
        self.entries.move_to_end(key)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.entries.clear()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self.entries)
