"""Benchmark of what-if simulations (bench/bench_simulate.py).

Tiers: N fictional firms generated in memory outside the timing; timed side by side, alternating, best
of `repeat`: (1) ONE evaluation of the registry (every tier in force, full evidence, the compiled query
the `evaluate enterprises` command runs) and (2) a tier reform simulated over the same facts (baseline
and reformed SRDI packs in one pass, gained/lost counted by county and industry, changed firms listed);
also the SRDI tier evaluated alone (the simulation compiles only the tier a reform touches, so this is
its like-for-like) and the 2022-vs-2026 SRDI comparison.
Clusters: a generated registry (not timed), then a cluster reform over every cluster (indicators once,
both packs in one query) cold (indicators computed in the timing) and warm (a further reform of the
same session: indicators kept on the snapshot), next to one evaluation of every cluster with evidence.
"""

from __future__ import annotations

import time
from datetime import date

import duckdb
import pyarrow as pa

from smecluster.analytics.tier_query import compile_tiers
from smecluster.benchmarks.memory import peak_memory_mb
from smecluster.policy.reform import reform_from_sets
from smecluster.policy.tiers import tier_packs
from smecluster.services.simulate import (
    forget_indicators,
    scenario_from_packs,
    scenario_from_reform,
    simulate_cluster_snapshot,
    simulate_tier_facts,
)

ON = date(2026, 6, 30)  # the 2026 packs (new applications)
BATCH = 122_880
TIER_REFORM = ("srdi-sme-2026", ["S6-9.threshold=55"])  # the SRDI evaluation score bar at 55 instead of 50
CLUSTER_REFORM = ("jiangsu-cluster-2023", ["J7.threshold=0.25"])  # cloud adoption at 25% instead of 30%


def _timed(fn) -> tuple[float, float, object]:
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - start, time.process_time() - cpu, out


def run_tiers(n: int, repeat: int = 3, seed: int = 20260401) -> dict:
    """Generate n firms; time one full evaluation and one tier reform, alternating; figures as a dict."""
    from smecluster.demo.tier_profiles import synthetic_facts

    start = time.perf_counter()
    facts = pa.Table.from_batches(synthetic_facts(n, seed).to_arrow().to_batches(max_chunksize=BATCH))
    generated = time.perf_counter() - start
    scenario = scenario_from_reform(reform_from_sets(*TIER_REFORM))
    editions = scenario_from_packs("srdi-sme-2022", "srdi-sme-2026")
    plan = compile_tiers(tier_packs(ON))
    one_tier = compile_tiers(tier_packs(ON, "srdi_sme"))

    def evaluate(sql: str):
        con = duckdb.connect()
        con.register("facts", facts)
        table = con.sql(sql).to_arrow_table()
        con.close()
        return table.num_rows

    runs = {"evaluate": lambda: evaluate(plan.sql), "evaluate_tier": lambda: evaluate(one_tier.sql),
            "simulate": lambda: simulate_tier_facts(facts, scenario, 2025, ON),
            "compare": lambda: simulate_tier_facts(facts, editions, 2025, ON)}
    best = {name: [float("inf"), float("inf")] for name in runs}
    sim = None
    for _ in range(repeat):
        for name, fn in runs.items():
            wall, cpu, out = _timed(fn)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
            if name == "simulate":
                sim = out
    return {
        "enterprises": facts.num_rows, "generate_s": generated, "tiers_evaluated": [p.pack.id for p in plan.tiers],
        "reform": f"{TIER_REFORM[0]}: {' '.join(TIER_REFORM[1])}",
        "evaluation_s": best["evaluate"][0], "simulation_s": best["simulate"][0],
        "ratio": best["simulate"][0] / best["evaluate"][0],
        "cpu_evaluation_s": best["evaluate"][1], "cpu_simulation_s": best["simulate"][1],
        "cpu_ratio": best["simulate"][1] / best["evaluate"][1],
        "evaluation_srdi_only_s": best["evaluate_tier"][0],
        "ratio_vs_srdi_only": best["simulate"][0] / best["evaluate_tier"][0],
        "compare_2022_vs_2026_s": best["compare"][0], "ratio_compare": best["compare"][0] / best["evaluate"][0],
        "gained": sim.summary["gained"], "lost": sim.summary["lost"],
        "qualifies_baseline": sim.summary["qualifies_baseline"], "peak_memory_gb": peak_memory_mb() / 1024,
    }


def run_clusters(enterprises: int = 1_000_000, clusters: int = 100, seed: int = 1, repeat: int = 3) -> dict:
    """Generate a registry (untimed); time a cluster reform over every cluster and, next to it, one
    evaluation of every cluster with evidence."""
    from smecluster.demo.generator import BASE_FIRMS, generate
    from smecluster.demo.snapshot import snapshot_from_demo
    from smecluster.services.clusters import evaluate_snapshot

    t0 = time.perf_counter()
    data = generate(seed=seed, scale=enterprises / BASE_FIRMS)
    snapshot = snapshot_from_demo(data, extra_clusters=clusters)
    generated = time.perf_counter() - t0
    scenario = scenario_from_reform(reform_from_sets(*CLUSTER_REFORM))
    evaluate_snapshot(snapshot, scenario.base, data.year)  # warm-up: imports and DuckDB start-up
    best_cold, best_warm, best_eval, sim = float("inf"), float("inf"), float("inf"), None
    for _ in range(repeat):
        forget_indicators(snapshot)  # cold: indicators computed in the timing
        wall, _, sim = _timed(lambda: simulate_cluster_snapshot(snapshot, scenario, data.year))
        best_cold = min(best_cold, wall)
        wall, _, sim = _timed(lambda: simulate_cluster_snapshot(snapshot, scenario, data.year))
        best_warm = min(best_warm, wall)  # warm: a further reform of the session, indicators kept
        wall, _, _ = _timed(lambda: evaluate_snapshot(snapshot, scenario.base, data.year))
        best_eval = min(best_eval, wall)
    return {
        "enterprises": data.enterprise.height, "clusters": sim.clusters.height, "generate_s": generated,
        "reform": f"{CLUSTER_REFORM[0]}: {' '.join(CLUSTER_REFORM[1])}",
        "simulation_cold_s": best_cold, "simulation_warm_s": best_warm, "evaluation_s": best_eval,
        "gained": int(sim.clusters["gained"].sum()), "lost": int(sim.clusters["lost"].sum()),
        "peak_memory_gb": peak_memory_mb() / 1024,
    }
