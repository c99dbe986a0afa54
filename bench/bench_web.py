"""Benchmark: the provincial overview page and its API under load (same as `smecluster bench web`).

Usage: python bench/bench_web.py [--enterprises 4000000] [--connections 32] [--seconds 10] [--workers 1]
"""

from __future__ import annotations

import argparse

from smecluster.benchmarks.web import run


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=4_000_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    for t in run(args.enterprises, args.connections, args.seconds, args.workers):
        print(
            f"{t.path}: cold first request {t.first_ms:,.0f} ms; {t.requests:,} requests, {t.errors} errors, "
            f"{t.rps:,.0f} req/s, "
            f"p50 {t.percentile(0.5):.1f} ms, p95 {t.percentile(0.95):.1f} ms, p99 {t.percentile(0.99):.1f} ms"
        )


if __name__ == "__main__":
    main()
