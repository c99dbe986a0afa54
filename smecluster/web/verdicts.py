"""Verdicts for the pages, from the cluster service, kept in memory until the data changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

Evaluate = Callable[..., list[Any]]


def default_evaluate() -> Evaluate:
    """The cluster service's evaluate_clusters (imported late: the web layer sits on top of it)."""
    from smecluster.services.clusters import evaluate_clusters

    return evaluate_clusters


class VerdictStore:
    """Every cluster's verdict under the policy in force, computed once and reused until invalidated."""

    def __init__(self, engine: Engine, evaluate: Evaluate | None = None) -> None:
        self.engine = engine
        self._evaluate = evaluate
        self._lock = threading.Lock()
        self._verdicts: list[Any] | None = None
        self._by_id: dict[int, Any] = {}
        self.computed_at: float | None = None
        self.seconds: float | None = None
        self.background = False  # True once a warm-up thread computes them
        self.error: str | None = None

    @property
    def ready(self) -> bool:
        """Whether the verdicts are computed."""
        return self._verdicts is not None

    def warm_in_background(self, then: Callable[[], None] | None = None) -> threading.Thread:
        """Compute the verdicts in a daemon thread (after `then`-less start-up); pages that can do
        without them (the overview) do not wait."""
        self.background = True

        def _run() -> None:
            try:
                if then is not None:
                    then()
                self.all()
            except Exception as exc:  # shown on the overview, and the next request tries again
                self.error = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=_run, name="verdict-warm-up", daemon=True)
        thread.start()
        return thread

    def all(self) -> list[Any]:
        """Every verdict (computed on first use)."""
        verdicts = self._verdicts
        if verdicts is None:
            with self._lock:
                if self._verdicts is None:
                    evaluate = self._evaluate or default_evaluate()
                    started = time.perf_counter()
                    result = list(evaluate(self.engine))
                    self.seconds = time.perf_counter() - started
                    self._by_id = {int(_field(v.cluster, "id")): v for v in result}
                    self._verdicts = result
                    self.computed_at = time.time()
                verdicts = self._verdicts
        return verdicts

    def get(self, cluster_id: int) -> Any | None:
        """One cluster's verdict (a cluster added since is evaluated alone), or None."""
        self.all()
        found = self._by_id.get(cluster_id)
        if found is None:
            evaluate = self._evaluate or default_evaluate()
            fresh = list(evaluate(self.engine, cluster_ids=[cluster_id]))
            with self._lock:
                if fresh and self._verdicts is not None:
                    found = fresh[0]
                    self._by_id[cluster_id] = found
                    self._verdicts = [*self._verdicts, found]
        return found

    def forget(self, cluster_id: int) -> None:
        """Drop one cluster's verdict (its data or stage changed); it is evaluated alone when next asked for."""
        with self._lock:
            if self._verdicts is not None and cluster_id in self._by_id:
                del self._by_id[cluster_id]
                self._verdicts = [v for v in self._verdicts if int(_field(v.cluster, "id")) != cluster_id]

    def invalidate(self) -> None:
        """Forget the verdicts (after a change to clusters or registry)."""
        with self._lock:
            self._verdicts = None
            self._by_id = {}


def _field(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def refresh_cluster(app: Any, cluster_id: int) -> None:
    """After a change to one cluster: re-evaluate it alone and let the overview and targets recount."""
    app.state.verdicts.forget(cluster_id)
    app.state.verdicts.get(cluster_id)
    app.state.overview.invalidate()
    app.state.insight.targets.invalidate()  # recognised clusters count towards a target
    priority = getattr(app.state, "priority", None)
    if priority is not None:  # a cluster recognised or revoked changes who is ranked
        priority.invalidate()
