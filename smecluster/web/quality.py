"""The data-quality report for the pages: computed once per registry version and kept in memory."""

from __future__ import annotations

import copy
import threading
from typing import Any

from sqlalchemy import Engine


class QualityStore:
    """Every finding of the registry (services.quality), recomputed when the registry's version moves."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._key: Any = None
        self._report: Any = None

    def report(self) -> Any:
        """The current report (its findings, digit tests and summary per county)."""
        from smecluster.registry.version import current_version
        from smecluster.services.quality import quality_report

        key = current_version(self.engine)
        with self._lock:
            if self._report is None or key != self._key or key is None:
                self._report = quality_report(self.engine)
                self._key = key
            return self._report


def with_doubts(engine: Engine, verdict: Any, findings: Any) -> Any:
    """A copy of a live verdict whose criteria resting on a flagged figure are marked (the shared
    verdict the store keeps is not touched; statuses are never changed)."""
    from smecluster.services.quality import mark_doubtful

    if verdict is None or isinstance(verdict, dict):
        return verdict
    marked = copy.deepcopy(verdict)
    mark_doubtful(engine, marked, findings)
    return marked
