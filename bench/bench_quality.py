"""Benchmark: `smecluster quality` (every data-quality check) as users run it, on stored registries.

Each command runs as a separate process; prints wall and CPU seconds and peak memory (children included).
Goal: every check over a 4,000,000-firm registry with four years in at most 10 s and 3 GB.

Usage: python bench/bench_quality.py --db URL [--db URL ...] [--repeat 2] [--snapshot-dir DIR]
  --snapshot-dir: keep the columnar snapshots (and kept findings) there, e.g. for a registry that must
  not be written to (the database itself is only read).
"""

from __future__ import annotations

import argparse
import os

from smecluster.benchmarks.quality import run


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", action="append", required=True, help="Database URL (repeatable).")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--snapshot-dir", default=None)
    args = parser.parse_args()
    if args.snapshot_dir:
        os.environ["SMECLUSTER_SNAPSHOT_DIR"] = args.snapshot_dir
    for url in args.db:
        print(f"\n{url}\nload before: {os.getloadavg()}", flush=True)
        for r in run(url, args.repeat):
            print(f"  {r.name:<58} {r.seconds:7.2f} s wall {r.cpu:7.2f} s CPU {r.peak_mb:8,.0f} MB peak",
                  flush=True)
        print(f"load after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
