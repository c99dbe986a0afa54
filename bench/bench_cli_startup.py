"""Benchmark: wall and CPU time of `smecluster --help`, `smecluster policy list` and a small import.

Usage: python bench/bench_cli_startup.py [--runs 10] [--command "python -m smecluster.cli.main"]
Prints the best and the median of each (goal: --help and policy list at most 0.3 s). The small import
is one 3-row enterprises file into a fresh SQLite database (regions and industries loaded first,
not timed).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMECLUSTER = str(Path(sys.executable).with_name("smecluster"))


def _time(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + system of the child) of `runs` runs of argv."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    """Time the commands and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--command", default=SMECLUSTER, help="How to run smecluster (e.g. another checkout).")
    args = parser.parse_args()
    cli = args.command.split()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        subprocess.run([*cli, "--db", db, "db", "regions"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*cli, "--db", db, "db", "industries"], check=True, stdout=subprocess.DEVNULL)
        csv = Path(tmp) / "enterprises.csv"
        rows = "".join(f"{_code(i)},企业{i},320481,3841\n" for i in range(3))
        csv.write_text("统一社会信用代码,企业名称,所在县区代码,行业代码\n" + rows, encoding="utf-8")
        cases = {
            "smecluster --help": [*cli, "--help"],
            "smecluster policy list": [*cli, "policy", "list"],
            "smecluster import enterprises (3 rows)": [*cli, "--db", db, "import", "enterprises", str(csv)],
        }
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {args.runs} runs each")
        for name, argv in cases.items():
            walls, cpus = _time(argv, args.runs)
            print(
                f"{name:<42} wall best {min(walls):.3f} s, median {statistics.median(walls):.3f} s; "
                f"CPU best {min(cpus):.3f} s, median {statistics.median(cpus):.3f} s"
            )


def _code(i: int) -> str:
    """A valid credit code (GB 32100 check digit) for the i-th bench firm."""
    from smecluster.registry.uscc import make_uscc_one

    return make_uscc_one(f"91320481MA1P0000{i}")


if __name__ == "__main__":
    main()
