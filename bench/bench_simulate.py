"""What-if benchmark: `python bench/bench_simulate.py [tiers N | clusters N]`.

tiers N (default 4,000,000): a tier reform over N firms next to one evaluation of the same registry
(goal: at most twice the time). clusters N (default 1,000,000): a cluster reform over every cluster of
an N-firm registry (goal: at most 2 s).
"""

import json
import sys

from smecluster.benchmarks.simulate import run_clusters, run_tiers

if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "tiers"
    if what == "clusters":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
        print(json.dumps(run_clusters(n), indent=1))
    else:
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 4_000_000
        print(json.dumps(run_tiers(n), indent=1))
