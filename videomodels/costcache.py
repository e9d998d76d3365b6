"""A bounded least-recently-used map that counts its hits and misses.

The cost walk keeps one per process: a node's cost is a pure function of its key, and the
counts let tests check that an edit re-costs only what it changed.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Hashable


class CountingLRU:
    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0
        # The web server analyses in several threads; an eviction between a lookup and
        # its move to the end would otherwise raise.
        self.lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self.lock:
            value = self.entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self.entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self.entries)
