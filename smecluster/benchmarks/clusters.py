"""Benchmark: evaluate every cluster of a large registry (in memory, as the service does)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console

from smecluster.benchmarks.memory import peak_memory_mb
from smecluster.demo.generator import BASE_FIRMS, generate
from smecluster.demo.snapshot import snapshot_from_demo
from smecluster.policy.pack import load_pack
from smecluster.services.clusters import evaluate_snapshot
from smecluster.settings import province


@dataclass
class ClusterBenchResult:
    """Figures of one run."""

    enterprises: int
    clusters: int
    generate_s: float
    evaluate_s: float
    peak_mb: float
    recognised: int


def run(enterprises: int = 1_000_000, clusters: int = 100, seed: int = 1, console: Console | None = None):
    """Generate a registry (untimed), then time the evaluation of every cluster with evidence."""
    console = console or Console()
    t0 = time.perf_counter()
    with console.status(f"generating {enterprises:,} enterprises (not timed) ..."):
        data = generate(seed=seed, scale=enterprises / BASE_FIRMS)
        snapshot = snapshot_from_demo(data, extra_clusters=clusters)
    generated = time.perf_counter() - t0
    pack = load_pack(province().cluster_policy)
    evaluate_snapshot(snapshot, pack, data.year)  # warm-up: imports and DuckDB start-up
    t1 = time.perf_counter()
    verdicts = evaluate_snapshot(snapshot, pack, data.year)
    evaluated = time.perf_counter() - t1
    return ClusterBenchResult(
        enterprises=data.enterprise.height,
        clusters=len(verdicts),
        generate_s=generated,
        evaluate_s=evaluated,
        peak_mb=peak_memory_mb(),
        recognised=sum(v.outcome == "recognised" for v in verdicts),
    )
