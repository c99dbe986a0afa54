"""Benchmark: build the N-firm demo registry (default 4,000,000) with the bulk loader, and `locate`.

Each build runs as a separate process (`python -m smecluster.benchmarks.province build URL N`, what
`bench/bench_province.py` runs when its registries are missing) into a new SQLite file and an emptied
PostgreSQL schema, and prints wall time, the generate/write split and peak resident memory (the
process's own and its children's). Then `smecluster locate` of 100 points all over China without
--province, as a separate process (the county index cached on disk; the first call builds it once).
The registries are kept for `bench/bench_province.py --dir DIR` (same file and schema names).

Usage: python bench/bench_build.py [--enterprises 4000000] [--backends sqlite,postgresql] [--dir bench-data]
(PostgreSQL schema: $SMECLUSTER_BENCH_PG_SCHEMA if set, else bench_province_N; it is dropped first)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smecluster.benchmarks.province import PG_SERVER, locate, pg_schema, pg_url, user_env


def run_timed(args: list[str]) -> tuple[float, float, float, str]:
    """Run a command: (wall seconds, CPU seconds, peak resident MB, stdout), children included.

    The CPU time says what the wall time would be on an idle machine when the two differ much (a
    shared machine's other work takes the cores).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=user_env())
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, problem = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args[2:6])} failed: {problem[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def _fresh(name: str, work: Path, enterprises: int) -> str:
    """The database URL, emptied first (a build is timed from nothing)."""
    if name == "sqlite":
        path = (work / f"bench-province-{enterprises}.db").resolve()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_SERVER)
    with engine.begin() as c:
        c.execute(text(f'DROP SCHEMA IF EXISTS "{pg_schema(enterprises)}" CASCADE'))
    engine.dispose()
    return pg_url(enterprises)


def main() -> None:
    """Build each registry, then locate; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=4_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"load before: {os.getloadavg()}", flush=True)
    rows = []
    for name in args.backends.split(","):
        url = _fresh(name, args.dir, args.enterprises)
        seconds, cpu, peak, text = run_timed(
            [sys.executable, "-m", "smecluster.benchmarks.province", "build", url, str(args.enterprises)])
        info = json.loads(text.strip().splitlines()[-1])
        rows.append((f"{name}: build {args.enterprises:,} firms", seconds, peak,
                     f"CPU {cpu:.0f} s; generate {info['generate_s']} s, write {info['write_s']} s"))
        print(f"  {rows[-1][0]}: {seconds:.1f} s, {peak:,.0f} MB ({rows[-1][3]}; {info})", flush=True)
    loc = locate(args.dir)  # the first call builds the all-China index if it is not cached yet
    seconds, cpu, peak, _ = run_timed([sys.executable, "-m", "smecluster.cli.main", "locate",
                                       str(args.dir / "points.csv"), "-o", str(args.dir / "located.csv")])
    rows.append(("locate 100 points, all China (no --province)", seconds, peak,
                 f"CPU {cpu:.2f} s; previous call {loc.seconds:.2f} s"))
    print(f"load after: {os.getloadavg()}")
    print("| step | time | peak memory | note |\n| --- | --- | --- | --- |")
    for name, seconds, peak, note in rows:
        print(f"| {name} | {seconds:.2f} s | {peak:,.0f} MB | {note} |")


if __name__ == "__main__":
    main()
