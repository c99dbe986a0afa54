"""National scaling benchmark: every tier for N firms from a Parquet registry, on DuckDB and on Spark.

    python bench/bench_national.py --sizes 1,4,16 --engines duckdb,spark --data /work/bigdata
    python bench/bench_national.py --sizes 60 --engines spark --data /work/bigdata --write

For each size N (millions of firms) the Parquet registry `DATA/nNm` is used if it holds a manifest,
else written first by the national generator (`smecluster demo --national --enterprises N --out DIR`).
Each run is a child process (`bench_national.py run ...`) evaluating every tier for every firm
(`evaluate_enterprises(source=..., sql=...)`, the path of `smecluster evaluate enterprises --from DIR
--engine E`); the parent samples the child's process tree (for Spark the JVM is a child) every 0.1 s
for its peak resident memory (the sum over the tree) and CPU time (user + sys). Prints a table and
writes it as JSON (`--json FILE`); the load average is printed beside it (the machine is shared).
`--write`: the engine writes the result as Parquet by province (`evaluate enterprises --from DIR --out
RESULT`, a folder under DATA removed afterwards) instead of collecting it in the child.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(root: int) -> list[int]:
    """The pids of `root` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _usage(pid: int) -> tuple[int, float] | None:
    """(resident bytes, CPU seconds user+sys) of one process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[21]) * PAGE, (int(fields[11]) + int(fields[12])) / TICKS


def measure(cmd: list[str]) -> dict:
    """Run `cmd`, sampling its process tree: wall seconds, peak RSS of the tree, CPU seconds, its JSON."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak, cpu = 0, {}
    while proc.poll() is None:
        total = 0
        for pid in _tree(proc.pid):
            u = _usage(pid)
            if u is not None:
                total += u[0]
                cpu[pid] = max(cpu.get(pid, 0.0), u[1])
        peak = max(peak, total)
        time.sleep(0.1)
    out = proc.stdout.read()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, "process_seconds": round(wall, 2), "peak_gb": round(peak / 2**30, 2),
            "cpu_seconds": round(sum(cpu.values()), 1)}


def run_child(engine: str, source: str, master: str | None, out: str | None = None) -> None:
    """The measured work, in a child process: open the engine, evaluate every tier for every firm (into
    the folder `out` when given, else collected here)."""
    t0 = time.perf_counter()
    from smecluster.analytics.engines import open_engine
    from smecluster.registry.parquet_layout import open_registry
    from smecluster.services.tiers import evaluate_enterprises, write_enterprise_tiers

    registry = open_registry(source)
    sql = open_engine(engine, master)
    t1 = time.perf_counter()
    if out is not None:
        info = write_enterprise_tiers(registry, out, sql=sql)
        firms, columns, tiers, year = info["firms"], len(info["columns"]), info["tiers"], info["year"]
    else:
        ev = evaluate_enterprises(None, source=registry, sql=sql)
        firms, columns, tiers, year = ev.table.num_rows, ev.table.num_columns, [p.tier for p in ev.tiers], ev.year
    t2 = time.perf_counter()
    print(json.dumps({"engine": engine, "firms": firms, "columns": columns, "tiers": tiers, "year": year,
                      "written": out is not None,
                      "startup_seconds": round(t1 - t0, 2), "evaluate_seconds": round(t2 - t1, 2)}))


def ensure_registry(data: Path, millions: float) -> Path:
    """The Parquet registry of N million firms under `data` (written by the national generator if absent)."""
    n = int(millions * 1_000_000)
    folder = data / f"n{millions:g}m"
    if (folder / "manifest.json").exists():
        return folder
    print(f"writing the national registry of {n:,} firms to {folder}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "smecluster.cli.main", "demo", "--national", "--enterprises", str(n),
                    "--out", str(folder)], check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode")
    child = sub.add_parser("run")
    child.add_argument("--engine", required=True)
    child.add_argument("--from", dest="source", required=True)
    child.add_argument("--spark-master")
    child.add_argument("--out")
    parser.add_argument("--sizes", default="1,4,16", help="millions of firms, comma-separated")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--data", default="/work/bigdata", help="folder of the Parquet registries (nNm)")
    parser.add_argument("--spark-master", default=None)
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    parser.add_argument("--write", action="store_true",
                        help="the engine writes the result as Parquet (--out) instead of collecting it")
    parser.add_argument("--duckdb-memory", default="5GB", help="DuckDB's memory limit (it spills beyond)")
    parser.add_argument("--duckdb-threads", default=None,
                        help="DuckDB's threads (default: every core; fewer shows how the time scales with cores)")
    parser.add_argument("--spark-memory", default="6g", help="the Spark driver's heap (local mode: all of Spark)")
    args = parser.parse_args()
    if args.mode == "run":
        run_child(args.engine, args.source, args.spark_master, args.out)
        return
    rows = []
    for size in [float(s) for s in args.sizes.split(",")]:
        folder = ensure_registry(Path(args.data), size)
        for engine in args.engines.split(","):
            cmd = [sys.executable, __file__, "run", "--engine", engine, "--from", str(folder)]
            if args.spark_master and engine == "spark":
                cmd += ["--spark-master", args.spark_master]
            result = Path(args.data) / f"result-{engine}-n{size:g}m"
            if args.write:
                shutil.rmtree(result, ignore_errors=True)
                cmd += ["--out", str(result)]
            load = os.getloadavg()[0]
            os.environ["SMECLUSTER_DUCKDB_MEMORY"] = args.duckdb_memory
            os.environ["SMECLUSTER_SPARK_DRIVER_MEMORY"] = args.spark_memory
            if args.duckdb_threads:
                os.environ["SMECLUSTER_DUCKDB_THREADS"] = args.duckdb_threads
            try:
                r = measure(cmd)
            finally:
                shutil.rmtree(result, ignore_errors=True)
            r.update(size_millions=size, load_before=round(load, 2), load_after=round(os.getloadavg()[0], 2))
            r["seconds_per_million"] = round(r["evaluate_seconds"] / (r["firms"] / 1e6), 2)
            rows.append(r)
            print(json.dumps(r), file=sys.stderr)
    engine_col = "engine" + (" (written)" if args.write else "")
    head = ("firms", engine_col, "evaluate s", "s / million", "startup s", "process s", "CPU s", "peak GB", "load")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for r in rows:
        print(" | ".join(str(x) for x in (f"{r['firms']:,}", r["engine"], r["evaluate_seconds"],
                                          r["seconds_per_million"], r["startup_seconds"], r["process_seconds"],
                                          r["cpu_seconds"], r["peak_gb"], f"{r['load_before']}/{r['load_after']}")))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
