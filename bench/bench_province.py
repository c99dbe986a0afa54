"""Benchmark: every command as users run it on stored province-size registries (SQLite and PostgreSQL).

Builds (or reuses) an N-firm registry (default 4,000,000) in each database with the import's bulk
loader, runs each command as a separate process and prints its time and peak memory (children
included), then the web figures, and finally a table with the databases side by side.

Usage: python bench/bench_province.py [--enterprises 4000000] [--backends sqlite,postgresql] [--dir bench-data]
       [--only diagnose,locate]   (just the steps whose name starts with one of these words)
PostgreSQL schema: $SMECLUSTER_BENCH_PG_SCHEMA if set, else bench_province_N (the shared one: reused read-only
when it holds the registry).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from smecluster.benchmarks.province import run, table


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=4_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--web-seconds", type=float, default=10.0)
    parser.add_argument("--only", default="", help="steps to run, by the first words of their names (comma-separated)")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()}", flush=True)
    only = tuple(w.strip() for w in args.only.split(",") if w.strip())
    backends = run(args.enterprises, args.backends.split(","), args.dir, args.web_seconds, only)
    print(f"load after: {os.getloadavg()}")
    print(table(backends))


if __name__ == "__main__":
    main()
