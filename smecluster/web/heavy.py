"""Heavy requests (a diagnosis, the targets and discovery computations) run a few at a time.

The routes are plain `def` functions, so FastAPI runs them in its worker threads (anyio.to_thread),
never on the event loop. Each heavy step also takes a slot of a bounded semaphore: at most `limit`
run at once, so a burst of requests cannot multiply the memory one computation needs. A request
that finds no slot within `wait` seconds, or whose computation runs out of memory, is answered
503 with Retry-After instead of taking the server down.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from fastapi import HTTPException

LIMIT_ENV, WAIT_ENV = "SMECLUSTER_HEAVY_LIMIT", "SMECLUSTER_HEAVY_WAIT"
BUSY = "the server is busy with other heavy requests; try again in a few seconds"
NO_MEMORY = "this request needs more memory than the server can give it now; try again later"


class HeavyWork:
    """A bounded number of slots for heavy computations."""

    def __init__(self, limit: int | None = None, wait: float | None = None) -> None:
        self.limit = limit or int(os.environ.get(LIMIT_ENV, "4"))
        self.wait = float(os.environ.get(WAIT_ENV, "10")) if wait is None else wait
        self._slots = threading.BoundedSemaphore(self.limit)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot while the block runs; 503 when none frees up in time or memory runs out."""
        if not self._slots.acquire(timeout=self.wait):
            raise HTTPException(status_code=503, detail=BUSY, headers={"Retry-After": "5"})
        try:
            yield
        except (MemoryError, duckdb.OutOfMemoryException):
            raise HTTPException(status_code=503, detail=NO_MEMORY, headers={"Retry-After": "30"}) from None
        finally:
            self._slots.release()
