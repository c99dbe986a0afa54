"""Priority ranking benchmark: `python bench/bench_priority.py [--clusters 1000] [--backends sqlite,postgresql]`.

Prints, as JSON: the whole ranking of 1,000 clusters x 25 indicators with 10,000-draw stability (in process,
best and median of 3, peak memory); the same 10,000 draws scored by one batched TOPSIS and by pymcdm's TOPSIS
once per draw (side by side, with the speed-up and whether the rank counts agree); and `smecluster rank`
end to end on a stored registry of that many clusters in SQLite and PostgreSQL (seconds, peak memory).
Goals: ranking <= 1 s; >= 20x faster than the pymcdm loop. Run it niced on a shared machine and read the
load averages printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from smecluster.benchmarks.memory import peak_memory_mb

EXTRA = [("output_cagr", {"years": 2}), ("rd_cagr", {"years": 2}), ("energy_intensity_trend", {"years": 2})]


def pack_of(indicators: int = 25):
    """The shipped priority pack grown to `indicators` indicators (growth over 2 years added), shares rescaled."""
    from smecluster.policy.priority import load_priority_pack, priority_from_dict

    raw = load_priority_pack().model_dump(mode="json")
    extra = EXTRA[: max(0, indicators - 22)]
    homes = {"output_cagr": 0, "rd_cagr": 1, "energy_intensity_trend": 3}
    for name, params in extra:
        dim = raw["dimensions"][homes[name]]
        dim["indicators"].append({"indicator": name, "params": params, "direction": "cost" if "energy" in name
                                  else "benefit", "normalisation": "minmax", "share": 0.1,
                                  "reason": "benchmark: growth over two years"})
        total = sum(i["share"] for i in dim["indicators"])
        for i in dim["indicators"]:
            i["share"] = i["share"] / total
    return priority_from_dict(raw, "benchmark pack")


def matrix(n: int, m: int, seed: int = 1) -> np.ndarray:
    """A synthetic decision matrix: skewed positive values, a few missing."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0.0, 0.8, (n, m))
    x[rng.random((n, m)) < 0.01] = np.nan
    return x


def kernel(n: int = 1000, indicators: int = 25, repeats: int = 3) -> dict:
    """Time the whole ranking (`rank_matrix`: weights, TOPSIS, weighted sum, 10,000-draw stability, swap)."""
    from smecluster.services.priority import rank_matrix

    pack = pack_of(indicators)
    m = len(pack.indicators())
    x = matrix(n, m)
    subjects = [{"id": i, "name": f"c{i}"} for i in range(n)]
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        ranking = rank_matrix(pack, x, subjects, 2025)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"clusters": n, "indicators": m, "draws": pack.stability.draws, "best_s": round(min(times), 3),
            "median_s": round(statistics.median(times), 3), "best_cpu_s": round(min(cpu), 3),
            "peak_mb": round(peak_memory_mb()), "swap_found": ranking.swap is not None}


def side_by_side(n: int = 1000, indicators: int = 25, draws: int = 10_000) -> dict:
    """The same draws: one batched TOPSIS (this code) and pymcdm's TOPSIS once per draw; same rank counts."""
    from pymcdm import normalizations
    from pymcdm.methods import TOPSIS

    from smecluster.analytics import priority as k

    pack = pack_of(indicators)
    specs = pack.indicators()
    directions = [ind.direction for _, ind in specs]
    x, _ = k.fill_missing(matrix(n, len(specs)), directions)
    types = np.array([-1 if d == "cost" else 1 for d in directions])
    norm = k.normalise(x, directions, "minmax").values
    w = k.combine(pack.expert_weights(), norm, np.zeros(len(specs), bool), 0.5, 0.5).combined
    sample = k.weight_draws(w, draws, pack.stability.concentration, pack.stability.seed)

    t0, c0 = time.perf_counter(), time.process_time()
    ours = k.rank_counts(norm, sample)
    batched, batched_cpu = time.perf_counter() - t0, time.process_time() - c0

    method = TOPSIS(normalizations.minmax_normalization)
    counts = np.zeros((n, n), dtype=np.int64)
    t0, c0 = time.perf_counter(), time.process_time()
    for d in sample:  # the reference: one pymcdm call per draw
        order = np.argsort(-method(x, d, types))
        counts[order, np.arange(n)] += 1
    loop, loop_cpu = time.perf_counter() - t0, time.process_time() - c0
    agree = float((ours == counts).mean())
    return {"draws": draws, "batched_s": round(batched, 3), "batched_cpu_s": round(batched_cpu, 3),
            "pymcdm_loop_s": round(loop, 2), "pymcdm_loop_cpu_s": round(loop_cpu, 2),
            "speedup_wall": round(loop / batched, 1), "speedup_cpu": round(loop_cpu / batched_cpu, 1),
            "rank_counts_equal_share": agree}


def build_registry(url: str, clusters: int = 1000, members: int = 20, seed: int = 7) -> dict:
    """A stored registry of `clusters` recognised clusters with every priority field, by the bulk loader."""
    from sqlalchemy import insert

    from smecluster.db import open_database
    from smecluster.demo.generator import make_codes
    from smecluster.registry.industries import load_shipped_industries, shipped_industries
    from smecluster.registry.models import Cluster, ClusterMember, ClusterYear
    from smecluster.registry.regions import load_regions, region_rows
    from smecluster.registry.store import upsert

    engine = open_database(url)
    load_regions(engine, "32")
    load_shipped_industries(engine)
    rng = np.random.default_rng(seed)
    counties = np.array(sorted(r["code"] for r in region_rows("32") if r["level"] == "county"))
    classes = np.array([r["code"] for r in shipped_industries() if r["level"] == 4 and r["code"][:2] in
                        ("34", "35", "38", "39", "26", "29", "33")])
    n = clusters * members
    cluster_county = rng.choice(counties, clusters)
    cluster_class = rng.choice(classes, clusters)
    firm_cluster = np.repeat(np.arange(clusters), members)
    uscc = make_codes(cluster_county[firm_cluster], np.arange(1, n + 1))
    ent = pl.DataFrame({"uscc": uscc, "name": [f"基准企业{i}（示例）" for i in range(n)],
                        "county_code": cluster_county[firm_cluster], "industry_code": cluster_class[firm_cluster],
                        "fictional": np.ones(n, bool)})
    level = rng.lognormal(np.log(3000), 0.8, n) * rng.lognormal(0, 0.4, clusters)[firm_cluster]
    growth = rng.normal(0.08, 0.06, clusters)[firm_cluster]
    years = []
    for back in range(3, -1, -1):
        out = level / (1 + growth) ** back
        years.append(pl.DataFrame({
            "uscc": uscc, "year": np.full(n, 2025 - back, dtype=np.int32), "revenue": out * 1.05, "output": out,
            "rd_spending": out * rng.uniform(0.01, 0.06, n), "employees": rng.integers(20, 900, n),
            "rd_staff": rng.integers(1, 20, n), "total_assets": out * 1.3, "total_liabilities": out * 0.6,
            "cloud": rng.random(n) < 0.4, "industrial_internet": rng.random(n) < 0.3,
            "invention_patents": rng.poisson(3, n), "energy_use": out * rng.lognormal(np.log(0.05), 0.4, n),
            "exports": out * rng.beta(1, 5, n), "smart_mfg_level": rng.integers(0, 4, n)}))
    kinds = np.array(["srdi_sme", "little_giant", "green_factory", "iso14001", "two_integration", "high_tech"])
    holders = rng.random(n) < 0.35
    desig = pl.DataFrame({"uscc": uscc[holders], "kind": rng.choice(kinds, holders.sum()),
                          "year": np.full(holders.sum(), 2024, dtype=np.int32)}).unique(["uscc", "kind", "year"])
    desig = desig.with_columns(pl.lit(None, dtype=pl.Date).alias("valid_from"),
                               pl.lit(None, dtype=pl.Date).alias("valid_until"))
    t0 = time.perf_counter()
    if engine.dialect.name == "sqlite":
        engine.dispose()
        upsert(engine, "enterprise", ent, ["uscc"], [])
        upsert(engine, "enterprise_year", pl.concat(years), ["uscc", "year"], [])
        upsert(engine, "designation", desig, ["uscc", "kind", "year"], [])
    with engine.begin() as conn:
        if engine.dialect.name != "sqlite":
            upsert(conn, "enterprise", ent, ["uscc"], [])
            upsert(conn, "enterprise_year", pl.concat(years), ["uscc", "year"], [])
            upsert(conn, "designation", desig, ["uscc", "kind", "year"], [])
        conn.execute(insert(Cluster), [{"id": i + 1, "code": f"bench-{i}", "name": f"基准集群{i}",
                                        "county_code": str(cluster_county[i]),
                                        "leading_industries": [str(cluster_class[i])[:3]], "declared": {},
                                        "status": "recognised", "year": 2025, "fictional": True}
                                       for i in range(clusters)])
        conn.execute(insert(ClusterMember), [{"cluster_id": int(c) + 1, "uscc": u}
                                             for c, u in zip(firm_cluster, uscc, strict=True)])
        conn.execute(insert(ClusterYear), [{"cluster_id": i + 1, "year": 2025, "promotion_org": bool(rng.random() < .6),
                                            "alliances": int(rng.integers(0, 6)),
                                            "cooperation_agreements": int(rng.integers(0, 12))}
                                           for i in range(clusters)])
    engine.dispose()
    return {"clusters": clusters, "enterprises": n, "write_s": round(time.perf_counter() - t0, 1)}


def end_to_end(url: str, repeats: int = 2) -> dict:
    """`smecluster rank --format json -o FILE` as a separate process: seconds and peak memory."""
    import resource

    from smecluster.benchmarks.province import cli, run_process

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "rank.json"
        figures = []
        for _ in range(repeats):
            before = cpu()
            seconds, peak, *_ = run_process(cli(url, "rank", "--format", "json", "-o", str(out)))
            figures.append((seconds, peak, cpu() - before))
        data = json.loads(out.read_text(encoding="utf-8"))
    return {"clusters": len(data["clusters"]), "indicators": len(data["weights"]["indicators"]),
            "best_s": round(min(f[0] for f in figures), 2), "best_cpu_s": round(min(f[2] for f in figures), 2),
            "peak_mb": round(max(f[1] for f in figures))}


def run(clusters: int = 1000, backends: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    """Every figure of the benchmark, with the load average around it."""
    result: dict = {"load_before": os.getloadavg()}
    result["kernel"] = kernel(clusters)
    result["side_by_side"] = side_by_side(clusters)
    for backend in backends:
        with tempfile.TemporaryDirectory() as d:
            if backend == "sqlite":
                url = f"sqlite:///{d}/bench.db"
                result[f"build_{backend}"] = build_registry(url, clusters)
                result[f"rank_{backend}"] = end_to_end(url)
            else:
                url, drop = _pg_schema()
                try:
                    result[f"build_{backend}"] = build_registry(url, clusters)
                    result[f"rank_{backend}"] = end_to_end(url)
                finally:
                    drop()
    result["load_after"] = os.getloadavg()
    return result


def _pg_schema():
    from sqlalchemy import create_engine, text

    from smecluster.benchmarks.province import PG_SERVER

    schema = f"bench_priority_{os.getpid()}"
    engine = create_engine(PG_SERVER)
    with engine.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return f"{PG_SERVER}?options=-csearch_path%3D{schema}", drop


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(json.dumps(run(args.clusters, tuple(b for b in args.backends.split(",") if b)), indent=1))


if __name__ == "__main__":
    main()
