"""Mutation testing of the guard packages with mutmut, one package at a time (slow: not in CI).

    .venv/bin/python bench/mutation.py                       # every package below, in this order
    .venv/bin/python bench/mutation.py accounts security     # some of them
    .venv/bin/python bench/mutation.py --report              # print the last results again, run nothing

Each package runs in its own copy of the repository under .mutation/<package>/ (so runs never share
mutmut's state) with a [tool.mutmut] section naming the files to mutate and the fast test subset
that guards them (SQLite only). The script prints, per package, killed / mutants = score and every
surviving mutant's name; `cd .mutation/<package> && ../../.venv/bin/mutmut show NAME` shows its diff.
Equivalent survivors are listed with their reason in docs/decisions/1102-mutation-testing.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
MUTMUT = Path(sys.executable).with_name("mutmut")

# package -> (files to mutate, tests that guard them). The tests are the fast ones that exercise the
# package's rules; each mutant runs only the tests that reach the mutated function, stopping at the first failure.
PACKAGES: dict[str, tuple[list[str], list[str]]] = {
    "accounts": (
        ["smecluster/accounts/*"],
        ["tests/test_web_accounts.py", "tests/test_guard_security.py", "tests/test_web_audit.py",
         "tests/test_guard_admin_audit.py"],
    ),
    "security": (
        ["smecluster/web/security.py", "smecluster/web/visibility.py"],
        ["tests/test_guard_security.py", "tests/test_guard_workflow.py", "tests/test_web_access.py",
         "tests/test_web_clusters.py"],
    ),
    "workflow": (
        ["smecluster/workflow/*"],
        ["tests/test_guard_workflow.py", "tests/test_web_workflow.py", "tests/test_web_workflow_pack.py",
         "tests/test_web_audit.py", "tests/test_guard_admin_audit.py"],
    ),
    "policy": (
        ["smecluster/policy/*"],
        ["tests/test_policy_packs.py", "tests/test_policy_scenarios.py", "tests/test_policy_cli.py",
         "tests/test_cluster_criteria.py", "tests/test_tiers_packs.py", "tests/test_tiers_rules.py",
         "tests/test_tiers_band_table.py", "tests/test_tiers_scenarios.py"],
    ),
    "analytics": (
        ["smecluster/analytics/*"],
        ["tests/test_cluster_criteria.py", "tests/test_guard_registry.py", "tests/test_tiers_rules.py",
         "tests/test_tiers_band_table.py", "tests/test_tiers_storage.py"],
    ),
}
COPY = ["smecluster", "tests", "docs", "scripts"]
# A pytest plugin for the copies only. mutmut links a mutant to the tests that called the mutated function
# while it collected its statistics, and runs the mutant in a fork of that process. Two kinds of call hide
# from it: route dependencies such as allow("role") run once, when the routes are imported, and cached
# functions (packs, workflow, catalogue) run once, on the first call. Before each test the plugin drops the
# route modules (create_app imports them again) and empties smecluster's caches, so every test calls these
# functions itself: the statistics name every test that relies on them, and a mutant's code is what runs.
FRESH_STATE = '''"""Fresh smecluster state before each test (mutation runs only; see bench/mutation.py)."""

import sys

import pytest


@pytest.fixture(autouse=True)
def _fresh_smecluster_state():
    for name in [n for n in sys.modules if n.startswith("smecluster.web.routes")]:
        del sys.modules[name]
    for name, module in list(sys.modules.items()):
        if name.startswith("smecluster") and module is not None:
            for obj in list(vars(module).values()):
                clear = getattr(obj, "cache_clear", None)
                if callable(clear):
                    clear()
    yield
'''


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def prepare(name: str) -> Path:
    """A fresh copy of the repository for one package, its pyproject.toml carrying the mutmut settings."""
    files, tests = PACKAGES[name]
    work = WORK / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for item in COPY:
        shutil.copytree(ROOT / item, work / item, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8") + f"""
[tool.mutmut]
source_paths = ["smecluster"]
only_mutate = {_toml_list(files)}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "mutation_fresh_state", "-k", "not postgresql",
                       "-W", "ignore::DeprecationWarning"]
pytest_add_cli_args_test_selection = {_toml_list(tests)}
use_git_change_detection = false
timeout_constant = 10.0
# a mutant that hangs a request (e.g. reading the form twice) is a timeout, i.e. caught: do not wait 15x
timeout_multiplier = 3.0
"""
    (work / "pyproject.toml").write_text(config, encoding="utf-8")
    (work / "tests" / "mutation_fresh_state.py").write_text(FRESH_STATE, encoding="utf-8")
    return work


def run(name: str, max_children: int) -> float:
    """Run mutmut for one package; returns the seconds it took. Output goes to .mutation/<name>.log."""
    work = prepare(name)
    env = {k: v for k, v in os.environ.items() if k not in ("SMECLUSTER_REQUIRE_POSTGRES",)}
    start = time.perf_counter()
    with (WORK / f"{name}.log").open("w", encoding="utf-8") as log:
        subprocess.run([str(MUTMUT), "run", "--max-children", str(max_children)], cwd=work, env=env,
                       stdout=log, stderr=subprocess.STDOUT, check=False)
        subprocess.run([str(MUTMUT), "export-cicd-stats"], cwd=work, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=False)
    return time.perf_counter() - start


def report(name: str) -> dict | None:
    """The package's figures: killed, survived, total, score, and the survivors' names."""
    work = WORK / name
    stats_file = work / "mutants" / "mutmut-cicd-stats.json"
    if not stats_file.exists():
        return None
    stats = json.loads(stats_file.read_text(encoding="utf-8"))
    listing = subprocess.run([str(MUTMUT), "results"], cwd=work, capture_output=True, text=True, check=False).stdout
    survivors = [line.strip().split(":")[0] for line in listing.splitlines() if line.strip().endswith(": survived")]
    # mutants no test reaches count as survivors: a guard no test runs is not guarded
    no_tests = [line.strip().split(":")[0] for line in listing.splitlines() if line.strip().endswith(": no tests")]
    judged = stats["killed"] + stats["survived"] + stats["no_tests"] + stats["timeout"] + stats["suspicious"]
    killed = stats["killed"] + stats["timeout"]  # a mutant that hangs the tests is caught
    return {"package": name, **stats, "score": killed / judged if judged else None,
            "survivors": survivors, "no_tests_mutants": no_tests}


def main(argv: list[str] | None = None) -> int:
    """Run the packages asked for (default: all) and print each one's score and survivors."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("packages", nargs="*", help=f"packages to run (default: all): {', '.join(PACKAGES)}")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant runs (default 2)")
    parser.add_argument("--report", action="store_true", help="only print the figures of the last runs")
    args = parser.parse_args(argv)
    names = args.packages or list(PACKAGES)
    unknown = [n for n in names if n not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)}; known: {', '.join(PACKAGES)}")
    WORK.mkdir(exist_ok=True)
    for name in names:
        seconds = None if args.report else run(name, args.max_children)
        r = report(name)
        if r is None:
            print(f"{name}: no results (see .mutation/{name}.log)")
            continue
        took = f" in {seconds:.0f} s" if seconds is not None else ""
        score = f"{r['score']:.1%}" if r["score"] is not None else "n/a"
        checked = r["killed"] + r["survived"] + r["no_tests"] + r["timeout"] + r["suspicious"] + r["skipped"]
        print(f"{name}: {r['killed'] + r['timeout']} killed of {checked} checked = {score}{took} "
              f"(of {r['total']} mutants; not checked {r['total'] - checked}; survived {r['survived']}, "
              f"no tests {r['no_tests']}, timeout {r['timeout']} (counted as killed: read their diffs), "
              f"suspicious {r['suspicious']}, skipped {r['skipped']})")
        for s in r["survivors"]:
            print(f"  survived  {s}")
        for s in r["no_tests_mutants"]:
            print(f"  no tests  {s}")
        (WORK / f"{name}.json").write_text(json.dumps(r, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
