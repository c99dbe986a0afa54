"""Build the demo: generate the fictional registry, store it, evaluate its clusters."""

from __future__ import annotations

from sqlalchemy import Engine

from smecluster.demo.generator import generate
from smecluster.demo.writer import write_demo
from smecluster.policy.verdict import Verdict
from smecluster.services.clusters import evaluate_clusters


def build_demo(
    engine: Engine, seed: int = 20230331, scale: float = 1.0, year: int = 2025
) -> tuple[dict[str, int], list[Verdict]]:
    """Generate and store the demo registry, then evaluate every cluster under the province's pack."""
    counts = write_demo(engine, generate(seed=seed, scale=scale, year=year))
    return counts, evaluate_clusters(engine, year=year)
