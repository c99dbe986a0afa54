"""Benchmark: chains and relatedness.

Goals (issue 12): link assignment for 4,000,000 firms <= 5 s; coverage and partners for every cluster of
that registry <= 5 s; relatedness for 2,850 counties x 1,382 classes <= 10 s and 4 GB.

Sections, each run in its own process so that its peak resident memory (wait4) is its own:
- assign:   4M firms in memory (Jiangsu's 95 counties, shipped classes, main products for 70% and a
            business scope for 50% of them, drawn from the chain keywords and other phrases): every
            shipped map's links assigned (the kernel of every chain command);
- clusters: the same registry with --clusters clusters of ~250 members: coverage of every cluster in its
            chains and partners for all their gaps (links assigned beforehand; the figure with the
            assignment included is printed too);
- related:  a generated 2,850 x 1,382 output matrix: LQ, M, proximity, density, ECI, growth options;
- stored:   the commands as users run them, each a process of its own, on stored registries (--url, read
            only; else a demo registry of --stored firms in SQLite and PostgreSQL): the snapshot made
            current, `chain assign` (every firm's links computed and kept, then read kept), `chain
            partners --all` (every cluster's coverage and partners), `chain coverage --province 32`,
            `chain coverage|partners --cluster liyang-battery`, `related --county 320481`, and the chain
            pages in the app. Wall and CPU seconds, peak memory (wait4), load average.

Usage: python bench/bench_chains.py [--firms 4000000] [--clusters 400] [--stored 200000]
                                    [--backends sqlite,postgresql] [--dir bench-data] [--url URL ...]
                                    [--snapshots DIR] [--sections ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from smecluster.benchmarks.memory import peak_memory_mb
from smecluster.benchmarks.province import cli, pg_url, run_process, stored_firms

OTHER_PHRASES = ["服装", "家具", "食品", "塑料制品", "五金工具", "纺织面料", "软件开发", "建材", "医疗器械",
                 "包装材料", "机械加工", "电子元器件", "化工原料", "汽车配件", "钢材贸易", "印刷", "照明器具", "阀门",
                 "泵", "电线电缆"]
SCOPE_TAIL = "的研发、生产和销售；货物及技术进出口；技术服务、技术开发、技术咨询"


def _firms(n: int, seed: int = 12) -> tuple[pl.DataFrame, pl.DataFrame]:
    """n firms over Jiangsu's counties (whole columns drawn at once), and the county rows."""
    from smecluster.chains.catalogue import load_catalogue
    from smecluster.registry.industries import shipped_industries
    from smecluster.registry.regions import region_rows

    rng = np.random.default_rng(seed)
    regions = pl.DataFrame(region_rows("32")).select("code", "name", "level", "parent_code", "lon", "lat")
    counties = regions.filter(pl.col("level") == "county")
    keywords = sorted({k for m in load_catalogue(None).maps.values() for link in m.links for k in link.keywords})
    phrases = np.array(keywords + OTHER_PHRASES * 4)
    classes = np.array([r["code"] for r in shipped_industries() if r["level"] == 4])
    county_idx = rng.integers(0, counties.height, n)
    products = phrases[rng.integers(0, len(phrases), n)]
    extra = phrases[rng.integers(0, len(phrases), n)]
    firms = pl.DataFrame({
        "uscc": pl.Series(np.arange(n)).cast(pl.Utf8).str.zfill(18),
        "name": np.full(n, "企业"),
        "county_code": counties["code"].gather(county_idx),
        "industry_code": classes[rng.integers(0, len(classes), n)],
        "lon": counties["lon"].gather(county_idx) + rng.normal(0, 0.08, n),
        "lat": counties["lat"].gather(county_idx) + rng.normal(0, 0.08, n),
        "main_products": pl.Series(np.char.add(np.char.add(products, "、"), extra)),
        "business_scope": pl.Series(np.char.add(extra, SCOPE_TAIL)),
    }).with_columns(
        pl.when(pl.Series(rng.random(n) < 0.7)).then(pl.col("main_products")).alias("main_products"),
        pl.when(pl.Series(rng.random(n) < 0.5)).then(pl.col("business_scope")).alias("business_scope"),
    )
    return firms, regions


def _registry(n: int, clusters: int):
    """An in-memory ChainRegistry of n firms and `clusters` clusters (members drawn in their county)."""
    from smecluster.chains.catalogue import load_catalogue
    from smecluster.services.chains import ChainRegistry, _counties

    rng = np.random.default_rng(5)
    firms, regions = _firms(n)
    cat = load_catalogue(None)
    chain_classes = sorted({c for m in cat.maps.values() for c in m.classes()})
    tiers = pl.Series(["", "innovative_sme", "srdi_sme", "little_giant"])
    facts = firms.select("uscc").with_columns(
        pl.Series("output", rng.lognormal(7, 1.5, n)),
        tiers.gather(rng.choice(4, n, p=[0.93, 0.05, 0.015, 0.005])).replace("", None).alias("tier"),
        pl.Series("size", np.array(["micro", "small", "medium", "large"])[rng.choice(4, n, p=[.6, .3, .08, .02])]),
    )
    counties = regions.filter(pl.col("level") == "county")["code"].to_numpy()
    homes = counties[rng.integers(0, len(counties), clusters)]
    # Cluster k of a county takes that county's firms ranked k*250 .. k*250+249 in a random order.
    picked = firms.select("uscc", "county_code").with_columns(pl.Series("r", rng.random(n))).with_columns(
        (pl.col("r").rank("ordinal").over("county_code") // 250).cast(pl.Int64).alias("bucket"))
    slots = pl.DataFrame({"cluster_id": np.arange(1, clusters + 1), "county_code": homes}).with_columns(
        (pl.int_range(pl.len()).over("county_code")).cast(pl.Int64).alias("bucket"))
    members = [slots.join(picked, on=["county_code", "bucket"]).select("cluster_id", "uscc")]
    cluster_frame = pl.DataFrame({
        "id": np.arange(1, clusters + 1), "code": [f"c{i}" for i in range(1, clusters + 1)],
        "name": [f"集群{i}" for i in range(1, clusters + 1)], "county_code": homes,
        "leading_industries": [json.dumps([chain_classes[i % len(chain_classes)]]) for i in range(clusters)],
    })
    overrides = pl.DataFrame(schema={"uscc": pl.Utf8, "chain_id": pl.Utf8, "link_id": pl.Utf8})
    return ChainRegistry(2025, firms, facts, _counties(regions), regions.select("code", "name", "level", "parent_code"),
                         cluster_frame, pl.concat(members), overrides, cat)


def _cpu() -> float:
    """CPU seconds (user + system) of this process so far: the work done, whatever the machine's load."""
    import resource

    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def section_assign(n: int) -> dict:
    from smecluster.services.chains import assignments

    firms, _ = _firms(n)
    from smecluster.chains.catalogue import load_catalogue
    from smecluster.services.chains import ChainRegistry

    reg = ChainRegistry(2025, firms, pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), pl.DataFrame(),
                        pl.DataFrame(), pl.DataFrame(schema={"uscc": pl.Utf8, "chain_id": pl.Utf8, "link_id": pl.Utf8}),
                        load_catalogue(None))
    t0, c0 = time.perf_counter(), _cpu()
    links = assignments(reg)
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    return {"firms": n, "links_rows": links.height, "firms_on_a_chain": links["uscc"].n_unique(),
            "seconds": round(seconds, 2), "cpu_s": round(cpu, 2),
            "by_why": dict(links.group_by("via").len().iter_rows())}


def section_clusters(n: int, clusters: int) -> dict:
    from smecluster.services.chains import assignments, every_cluster

    reg = _registry(n, clusters)
    t0, c0 = time.perf_counter(), _cpu()
    links = assignments(reg)
    t1, c1 = time.perf_counter(), _cpu()
    cov, found = every_cluster(reg, assigned=links)
    t2, c2 = time.perf_counter(), _cpu()
    return {"firms": n, "clusters": clusters, "members": reg.members.height, "coverage_rows": cov.height,
            "gaps": cov.filter(pl.col("status") != "present").height, "partner_rows": found.height,
            "assign_s": round(t1 - t0, 2), "assign_cpu_s": round(c1 - c0, 2),
            "coverage_and_partners_s": round(t2 - t1, 2),
            "coverage_and_partners_cpu_s": round(c2 - c1, 2),
            "with_assignment_s": round(t2 - t0, 2)}


def section_related(counties: int, industries: int) -> dict:
    from smecluster.analytics.relatedness import growth_options, relatedness

    rng = np.random.default_rng(3)
    x = rng.lognormal(5, 2, (counties, industries)) * (rng.random((counties, industries)) < 0.3)
    t0, c0 = time.perf_counter(), _cpu()
    rel = relatedness(x)
    options = [growth_options(rel, c, 10) for c in range(0, counties, max(1, counties // 50))]
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    return {"counties": counties, "industries": industries, "seconds": round(seconds, 2), "cpu_s": round(cpu, 2),
            "eci_finite": int(np.isfinite(rel.eci).sum()), "sampled_options": len(options)}


def _child(args: argparse.Namespace, section: str) -> dict:
    """Run one section in a child process; its figures plus wall time and peak memory."""
    argv = [sys.executable, __file__, "--child", section, "--firms", str(args.firms), "--clusters", str(args.clusters)]
    seconds, peak, out, cpu = run_process(argv)
    result = json.loads(out.strip().splitlines()[-1])
    result.update({"process_s": round(seconds, 1), "process_cpu_s": round(cpu, 1), "peak_mb": round(peak)})
    return result


STORED_STEPS = (
    # (name, argv, kept results removed first: the step computes them)
    ("chain assign (links computed and kept)", ["chain", "assign", "--format", "json"], ("chains-links-",)),
    ("chain assign (kept)", ["chain", "assign", "--format", "json"], ()),
    ("chain partners --all (facts computed and kept)", ["chain", "partners", "--all", "--format", "json"],
     ("chains-facts-",)),
    ("chain partners --all", ["chain", "partners", "--all", "--format", "json"], ()),
    ("chain coverage --province 32", ["chain", "coverage", "--province", "32", "--format", "json"], ()),
    ("chain coverage --cluster liyang-battery", ["chain", "coverage", "--cluster", "liyang-battery", "--format",
                                                 "json"], ()),
    ("chain partners --cluster liyang-battery", ["chain", "partners", "--cluster", "liyang-battery", "--format",
                                                 "json"], ()),
    ("related --county 320481 (cells computed and kept)", ["related", "--county", "320481", "--format", "json"],
     ("related-cells-",)),
    ("related --county 320481", ["related", "--county", "320481", "--format", "json"], ()),
)
WEB_PATHS = ("/chains?level=cluster&code=liyang-battery", "/api/chains/partners?cluster=liyang-battery",
             "/chains?level=province&code=320000&chain=power-battery", "/api/counties/320481/related")


def _snapshot_child(url: str) -> dict:
    """Make the registry's snapshot current (built when the registry moved on) and name its directory."""
    from smecluster.analytics.stored_snapshot import current_snapshot
    from smecluster.db import open_database

    found = current_snapshot(open_database(url), force=True)
    return {"path": str(found.path), "version": found.version}


def _web_child(url: str) -> dict:
    """The chain page and its JSON twins through the app in this process (a province administrator's
    session stood in for, so that nothing is written to the registry): each path's first and second
    answer, in milliseconds."""
    from fastapi.testclient import TestClient

    import smecluster.web.security as security
    from smecluster.accounts.sessions import SessionView
    from smecluster.web.app import create_app

    admin = SessionView(0, "bench", "bench", "province_admin", "320000", None, False, "csrf")
    security.lookup_session = lambda _engine, token, now=None: admin if token == "bench" else None
    t0 = time.perf_counter()
    client = TestClient(create_app(url))
    client.cookies.set(security.SESSION_COOKIE, "bench")
    out = {"app_start_ms": round((time.perf_counter() - t0) * 1000)}
    for path in WEB_PATHS:
        times = []
        for _ in range(2):
            t = time.perf_counter()
            r = client.get(path)
            times.append(round((time.perf_counter() - t) * 1000))
            if r.status_code != 200:
                raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
        out[path] = {"first_ms": times[0], "second_ms": times[1]}
    return out


def _forget(snapshot: Path, prefixes: tuple[str, ...], own: Path) -> None:
    """Remove kept results (names starting with `prefixes`) of a snapshot under our own directory."""
    if not snapshot.resolve().is_relative_to(own.resolve()):
        raise RuntimeError(f"{snapshot} is not under {own}: not removing anything there")
    for prefix in prefixes:
        for path in snapshot.glob(f"{prefix}*.parquet"):
            path.unlink()


def stored(args: argparse.Namespace) -> list[dict]:
    """The users' commands, each a process of its own, on stored registries (--url, read only: the
    snapshot and the kept results go under --snapshots; else a demo registry of --stored firms built
    once with the generator and bulk loader). Kept results a step computes are removed before it."""
    from smecluster.benchmarks.province import build

    out = []
    snapshots = (args.snapshots or args.dir / "snapshots").resolve()
    env = dict(os.environ, SMECLUSTER_SNAPSHOT_DIR=str(snapshots))
    targets = [(u.split(":")[0].split("+")[0], u) for u in args.url] if args.url else \
        [(b, None) for b in args.backends.split(",")]
    for backend, given in targets:
        if given:
            url = given
        elif backend == "sqlite":
            args.dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{(args.dir / f'chains-{args.stored}.db').resolve()}"
        else:
            url = pg_url(args.stored).replace("bench_province_", "bench_chains_")
        if not given and stored_firms(url) < args.stored * 0.9:
            t0 = time.perf_counter()
            build(url, args.stored)
            out.append({"backend": backend, "step": "build registry", "seconds": round(time.perf_counter() - t0, 1)})
        firms = stored_firms(url)

        def record(step: str, seconds: float, cpu: float, peak: float, backend=backend, firms=firms,
                   **more) -> None:
            out.append({"backend": backend, "firms": firms, "step": step, "seconds": round(seconds, 2),
                        "cpu_s": round(cpu, 2), "peak_mb": round(peak), "load": round(os.getloadavg()[0], 1),
                        **more})
            print(json.dumps(out[-1], ensure_ascii=False), flush=True)

        seconds, peak, text, cpu = run_process([sys.executable, __file__, "--snapshot-of", url], env)
        snap = json.loads(text.strip().splitlines()[-1])
        record("snapshot current (built if the registry moved on; shared by tiers, quality, chains)", seconds, cpu,
               peak)
        for name, argv, forget in STORED_STEPS:
            _forget(Path(snap["path"]), forget, snapshots)
            seconds, peak, _, cpu = run_process(cli(url, *argv), env)
            record(name, seconds, cpu, peak)
        seconds, peak, text, cpu = run_process([sys.executable, __file__, "--web-of", url], env)
        record("web: chain pages in the app (first and second answer)", seconds, cpu, peak,
               pages=json.loads(text.strip().splitlines()[-1]))
    return out


def main() -> None:
    """Run the sections and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--firms", type=int, default=4_000_000)
    parser.add_argument("--clusters", type=int, default=400)
    parser.add_argument("--stored", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--url", action="append", default=None,
                        help="Stored registries to run the commands on (instead of building --stored firms).")
    parser.add_argument("--snapshots", type=Path, default=None,
                        help="Where snapshots and kept results go (default: --dir/snapshots).")
    parser.add_argument("--sections", default="assign,clusters,related,stored")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--snapshot-of", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--web-of", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.snapshot_of or args.web_of:
        print(json.dumps(_snapshot_child(args.snapshot_of) if args.snapshot_of else _web_child(args.web_of)))
        return
    if args.child:
        result = {"assign": lambda: section_assign(args.firms),
                  "clusters": lambda: section_clusters(args.firms, args.clusters),
                  "related": lambda: section_related(2850, 1382)}[args.child]()
        result["peak_mb_self"] = round(peak_memory_mb())
        print(json.dumps(result, ensure_ascii=False))
        return
    print(f"load before: {os.getloadavg()}", flush=True)
    for section in args.sections.split(","):
        if section == "stored":
            stored(args)
        else:
            print(json.dumps({"section": section, **_child(args, section)}, ensure_ascii=False), flush=True)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
