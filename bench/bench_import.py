"""Benchmark: import N generated enterprise rows from CSV into SQLite and PostgreSQL; print rows/s.

Usage: python bench/bench_import.py [--rows 1000000] [--db sqlite] [--db postgresql://...]
(the same as `smecluster bench import`). Generation is not timed; read + check + store is.
"""

from __future__ import annotations

import argparse

from smecluster.benchmarks.imports import bench_import
from smecluster.benchmarks.memory import peak_memory_mb


def main() -> None:
    """Run the benchmark and print one line per database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", action="append", help="'sqlite' or a PostgreSQL URL (repeatable)")
    args = parser.parse_args()
    figures, generated, size_mb = bench_import(args.rows, args.db)
    print(f"generated {args.rows:,} rows ({size_mb:.0f} MB CSV) in {generated:.2f} s (not timed)")
    for f in figures:
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in f.phases.items())
        print(
            f"{f.database:<10} {f.rows:>10,} rows in {f.seconds:6.2f} s = {f.rows_per_second:>9,.0f} rows/s "
            f"({phases}); re-import {f.reimport_seconds:.2f} s; peak RSS {f.peak_mb:.0f} MB"
        )
    print(f"peak memory of the process: {peak_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
