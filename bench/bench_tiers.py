"""Tier evaluation benchmark: `python bench/bench_tiers.py [N]` (default 4,000,000 firms)."""

import json
import sys

from smecluster.benchmarks.tiers import run

if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4_000_000
    print(json.dumps(run(n), indent=1))
