"""Benchmark: evaluate every cluster of a generated registry (same as `smecluster bench clusters`).

Usage: python bench/bench_clusters.py [--enterprises 1000000] [--clusters 100]
"""

from __future__ import annotations

import argparse

from smecluster.benchmarks.clusters import run


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--clusters", type=int, default=100)
    args = parser.parse_args()
    r = run(enterprises=args.enterprises, clusters=args.clusters)
    print(f"{r.enterprises:,} enterprises, {r.clusters} clusters: evaluated in {r.evaluate_s:.2f} s, "
          f"peak {r.peak_mb:,.0f} MB (generation {r.generate_s:.1f} s, not timed)")


if __name__ == "__main__":
    main()
