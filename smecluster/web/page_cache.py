"""Figures a page computes once per app (targets, discovery) and keeps for a while.

Discovery over a whole province's firm locations and the registry-wide tier funnel take seconds
on a large registry: every viewer of the same key shares one computation, kept `ttl` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class ComputedCache:
    """A value per key, computed by `compute(key)` on first use and again after `ttl` seconds."""

    def __init__(self, compute: Callable[[Any], Any], ttl: float = 600.0) -> None:
        self.compute = compute
        self.ttl = ttl
        self._lock = threading.Lock()
        self._values: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any:
        """The value of `key`, computed at most once per `ttl` however many requests ask at once."""
        found = self._values.get(key)
        if found is not None and time.monotonic() - found[0] < self.ttl:
            return found[1]
        with self._lock:  # one computation at a time: the others wait and then read its result
            found = self._values.get(key)
            if found is None or time.monotonic() - found[0] >= self.ttl:
                found = (time.monotonic(), self.compute(key))
                self._values[key] = found
            return found[1]

    def invalidate(self) -> None:
        """Forget every value (after new data)."""
        with self._lock:
            self._values = {}
