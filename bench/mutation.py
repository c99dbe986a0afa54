"""Mutation testing of the guard packages with mutmut, one package at a time (slow: not in CI).

    .venv/bin/python bench/mutation.py                       # every package below, in this order
    .venv/bin/python bench/mutation.py accounts security     # some of them
    .venv/bin/python bench/mutation.py --report              # print the last results again, run nothing
    .venv/bin/python bench/mutation.py policy --sample 120   # a seeded random sample of the mutants
    .venv/bin/python bench/mutation.py accounts --only NAME  # re-run some mutants (e.g. survivors after a new test)
    .venv/bin/python bench/mutation.py security --recheck    # settle the last run's timeouts and survivors

Each package runs in its own copy of the repository under .mutation/<package>/ (so runs never share
mutmut's state) with a [tool.mutmut] section naming the files to mutate and the fast test subset
that guards them (SQLite only). The script prints, per package, killed / mutants = score and every
surviving mutant's name and diff; `cd .mutation/<package> && ../../.venv/bin/mutmut show NAME` shows it too.
Mutants whose change nobody can see from outside (equivalent mutants) are listed in EQUIVALENT with the
reason, and the score is given both with and without them. The figures of each run are kept in
bench/results/mutation/<package>.json and summed up in bench/results/mutation.md.

A full run of the large packages takes hours on a shared 2-core machine (policy/ and analytics/ have
over 2,000 mutants each); `--sample N` runs N mutants drawn with a fixed seed (--seed), and the
results say which (sample size, seed) so the figures can be quoted honestly. A larger sample with the same
seed holds the smaller one (random.sample draws one by one) as long as the package's mutants are the same.

On a loaded machine a mutant whose tests all pass can outrun mutmut's time limit, and mutmut counts it as
killed. `--recheck` settles every timeout and survivor of the kept run (decision 2250): the mutant's function
is written into a scratch copy (.mutation/<package>.recheck; the working tree is never touched), the tests
mutmut saw calling it and then the package's whole test subset run in a fresh pytest with no such limit, and
a failing test counts only if it passes on the real code. The verdicts are kept in the package's json and give
the "re-checked" score (a timeout not re-checked counts as not killed). Run it again after a new test: it
checks again every mutant not yet killed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
MUTMUT = Path(sys.executable).with_name("mutmut")
RESULTS = ROOT / "bench" / "results" / "mutation"

# package -> (files to mutate, tests that guard them). The tests are the fast ones that exercise the
# package's rules; each mutant runs only the tests that reach the mutated function, stopping at the first failure.
PACKAGES: dict[str, tuple[list[str], list[str]]] = {
    "accounts": (
        ["smecluster/accounts/*"],
        ["tests/test_guard_accounts.py", "tests/test_web_accounts.py", "tests/test_guard_security.py",
         "tests/test_web_audit.py", "tests/test_guard_admin_audit.py", "tests/test_trust_accounts.py",
         "tests/test_trust_audit.py", "tests/test_web_enterprise.py"],
    ),
    "security": (
        ["smecluster/web/security.py", "smecluster/web/visibility.py"],
        ["tests/test_guard_security.py", "tests/test_guard_workflow.py", "tests/test_web_access.py",
         "tests/test_web_clusters.py", "tests/test_trust_accounts.py", "tests/test_web_i18n.py"],
    ),
    "workflow": (
        ["smecluster/workflow/*"],
        ["tests/test_guard_workflow.py", "tests/test_web_workflow.py", "tests/test_web_workflow_pack.py",
         "tests/test_web_audit.py", "tests/test_guard_admin_audit.py", "tests/test_trust_audit.py",
         "tests/test_web_trust.py", "tests/test_guard_workflow_rules.py",
         "tests/test_guard_audit.py", "tests/test_guard_members.py", "tests/test_priority_registry.py"],
    ),
    "policy": (
        ["smecluster/policy/*"],
        ["tests/test_policy_packs.py", "tests/test_policy_scenarios.py", "tests/test_policy_cli.py",
         "tests/test_cluster_criteria.py", "tests/test_tiers_packs.py", "tests/test_tiers_rules.py",
         "tests/test_tiers_band_table.py", "tests/test_tiers_scenarios.py", "tests/test_tiers_2026.py",
         "tests/test_tiers_bands.py", "tests/test_simulate.py", "tests/test_guard_policy.py",
         "tests/test_priority_pack.py", "tests/test_priority_scenarios.py", "tests/test_watch.py",
         "tests/test_tiers_endpoints.py"],
    ),
    "analytics": (
        ["smecluster/analytics/*"],
        ["tests/test_cluster_criteria.py", "tests/test_guard_registry.py", "tests/test_tiers_rules.py",
         "tests/test_tiers_band_table.py", "tests/test_tiers_storage.py", "tests/test_simulate.py",
         "tests/test_scale_snapshot.py", "tests/test_scale_prepared.py",
         # the modules added since (priority, relatedness, watch, tier gaps): their own fast tests
         "tests/test_priority_kernel.py", "tests/test_priority_pack.py", "tests/test_priority_scenarios.py",
         "tests/test_relatedness.py", "tests/test_watch.py", "tests/test_diagnosis_groups.py",
         "tests/test_values.py", "tests/test_engines_arrow.py", "tests/test_facts_years.py",
         "tests/test_cluster_indicator_inputs.py", "tests/test_snapshot_lookup.py", "tests/test_engines_spark.py",
         # the same SQL on Spark with case-sensitive names (conftest.SPARK_TEST_CONF): a name whose case
         # changed (an equivalent mutant on DuckDB) fails the parity of tiers and cluster verdicts there
         "tests/test_engines.py",
         # the priority indicators computed from a stored registry (srdi_density, ...), in no other file here
         "tests/test_priority_registry.py"],
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
# Fork each mutant from a server that has only imported the tests, not from the process that ran them: that
# process keeps threads' state (the web tests' event loops and thread pools), and a fork of it hung in
# requests whatever the mutant (even one changing a cache key's text), which mutmut then reports as a
# "timeout", i.e. a false kill.
process_isolation = "forkserver"
timeout_constant = 10.0
# a mutant that hangs a request (e.g. reading the form twice) is a timeout, i.e. caught: do not wait 15x
timeout_multiplier = 3.0
"""
    (work / "pyproject.toml").write_text(config, encoding="utf-8")
    (work / "tests" / "mutation_fresh_state.py").write_text(FRESH_STATE, encoding="utf-8")
    return work


# Lists every mutant of the copy without running a test (mutmut's own generation step, run alone).
GENERATE = """
import json, os
from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, setup_source_paths
from mutmut.__main__ import walk_mutatable_files
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.trampoline import set_mutant_under_test
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(1)
names = []
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    names += list(data.exit_code_by_key)
print(json.dumps(sorted(names)))
"""

# mutmut with its "clean tests" step skipped: the statistics step has just run the same tests on the
# unmutated code and stops when one fails, so a second full run only costs time (much of it on a shared machine).
MUTMUT_RUN = """
from mutmut.workers import isolation
for runner in (isolation.ForkServerRunner, isolation.ForkRunner):
    runner.run_clean_tests = lambda self, tests: 0
from mutmut.__main__ import cli
cli()
"""

# Survivors nobody can kill: the mutant behaves as the original for every input the code can get, or it
# cannot run under any test. Mutant name (or fnmatch pattern) -> why. Names stay valid while the function's
# source is unchanged.
EQUIVALENT: dict[str, str] = {
    "smecluster.accounts.passwords.x_use_fast_hashing_for_tests__mutmut_*":
        "test-only helper: tests/web_fakes.py calls it when it is imported, before mutmut switches a mutant on, "
        "so no test runs its mutants; it only lowers argon2's cost for the tests (the product never calls it)",
    "smecluster.accounts.users.x_is_admin_role__mutmut_4":
        'roles().get("XXXX") for a missing role instead of roles().get(""): neither is a role, both give None',
    "smecluster.accounts.users.x__holds_writes__mutmut_13":
        "the PostgreSQL query in lower case (select ... is not null): SQL keywords ignore case, the same query",
    "smecluster.web.visibility.x_may_see_cluster__mutmut_5":
        "`who is None and ...`: an anonymous viewer then reaches may_see_application, which refuses every "
        "viewer without a business role (an anonymous one has role None): the same False",
    "smecluster.web.security.x_viewer__mutmut_[156]":
        "the viewer kept on request.state is looked up again instead of reused: the same account and session "
        "read twice in one request, the same Viewer (only one more query)",
    "smecluster.web.security.x_viewer__mutmut_32":
        "secrets.token_urlsafe(None) instead of (32) for an anonymous visitor's new csrf token: None means the "
        "module's default entropy, which is 32 bytes (secrets.DEFAULT_ENTROPY), the same token length",
    "smecluster.web.security.x_allow__mutmut_17":
        "_check.allowed_roles = None instead of frozenset(allowed): nothing in the repository reads the attribute "
        "(its comment names a route table in the docs that no longer reads it), so no behaviour changes",
    "smecluster.web.security.x_viewer__mutmut_33":
        "secrets.token_urlsafe(33) instead of (32) for an anonymous visitor's new csrf token: one more random byte "
        "(44 characters instead of 43); the token is only compared whole, nothing reads its length",
    "smecluster.web.security.x_check_csrf__mutmut_5":
        'request.headers.get("X-CSRF-TOKEN") instead of ("x-csrf-token"): Starlette\'s Headers lower-case the '
        "name they are asked for (HTTP header names ignore case), so the same header is read",
    "smecluster.web.security.x_check_csrf__mutmut_14":
        'request.headers.get("CONTENT-TYPE", "") instead of ("content-type", ""): the same header (Starlette\'s '
        "Headers lower-case the name asked for)",
    "smecluster.web.security.x_check_csrf__mutmut_15":
        'a missing content type read as "XXXX" instead of "": neither starts with a form\'s content type, so a '
        "request without one is never read as a form under both (the token must come in the header)",
    "smecluster.web.security.x_cookie_kwargs__mutmut_7":
        'SameSite "LAX" instead of "lax": browsers read the attribute\'s value without regard to case (RFC 6265bis)',
    "smecluster.web.visibility.x_cluster_refs__mutmut_1[89]":
        "AppRef(0, ...) for a registry cluster without an application: the ref's id (0, None or 1) and its "
        "cluster_id are never read by may_see_application, which reads only stage, county and experts",
    "smecluster.web.visibility.x_cluster_refs__mutmut_26":
        "AppRef(1, ...) instead of AppRef(0, ...) for a registry cluster without an application: the same "
        "unread id as above",
    "smecluster.web.visibility.x_audience__mutmut_2":
        '"XXanonymousXX" instead of "anonymous" as the overview cache key of anonymous viewers: no role has '
        "either name, so the keys stay apart from every role's",
    "smecluster.web.visibility.x_audience__mutmut_3":
        '"ANONYMOUS" instead of "anonymous" as the overview cache key of anonymous viewers: no role has either '
        "name, so the keys stay apart from every role's",
    "smecluster.workflow.applications.x__conflict__mutmut_9":
        "limit(2) instead of limit(1) on the application's transitions newest first, read with .first(): the "
        "same newest transition",
    "smecluster.workflow.audit.x_record__mutmut_6":
        'RuntimeError(None) instead of RuntimeError("no audit key") on a branch no call reaches: record asks '
        "audit_key with create=True, which makes the key when it is missing and never returns None",
    "smecluster.workflow.audit.x_record__mutmut_14":
        "limit(2) instead of limit(1) on the audit entries' hashes newest first, read with .first(): the same "
        "newest hash (as _conflict 9)",
    "smecluster.workflow.member_file.x_member_codes__mutmut_26":
        'a CSV member list written to a temporary "members.CSV" instead of "members.csv": read_grid lower-cases '
        "the suffix, so the same CSV reader reads it",
    "smecluster.workflow.evidence.x_display_name__mutmut_5":
        'rsplit("/") instead of rsplit("/", 1) before taking the last part ([-1]): splitting at every "/" or at '
        "the last one only leaves the same last part",
    "smecluster.policy.extend.x_extend__mutmut_53":
        'raw.pop("inherited_unverified", None) instead of (..., False): the value is only tested for truth, and '
        "the key is removed either way",
    "smecluster.policy.extend.x_extend__mutmut_110":
        '"CRITERIA" instead of "criteria" among the base keys not carried over: the base\'s criteria key is then '
        'copied, but merged["criteria"] is assigned right after (the pack model reads keys, not their order)',
    "smecluster.policy.evaluate.x_build_result__mutmut_125":
        'a composition\'s owed children filtered on status != "XXpassXX" (always true) and gap: a child has a gap '
        "only when its status is fail, warn or unknown (gap_text is called only then), so `and ch.gap` alone "
        "already leaves passing children out",
    "smecluster.analytics.priority.x_swap_change__mutmut_41":
        "c1 >= c0 + 1e-12 instead of c1 > c0 + 1e-12 for 'the two swapped': the two differ only when the closeness "
        "difference equals the 1e-12 tolerance to the last bit, which no test can produce short of building the "
        "floats by hand (ties, difference 0, stay unswapped under both); counted as equivalent",
    "smecluster.analytics.stored_snapshot.x__postgres_batches__mutmut_42":
        "the PostgreSQL copy's CSV read in Arrow's default blocks (1 MB) instead of 32 MB: the same rows in the "
        "same order, cut into more batches, which the snapshot writer writes into row groups of the same "
        "Parquet file (a speed setting; nothing reads the row groups' sizes)",
    "smecluster.analytics.priority.x_swap_change__mutmut_75":
        "cm[1] >= cm[0] + 1e-12 instead of > in the bisection that refines the swap point: as for mutant 41, the "
        "two differ only when the closeness difference equals the 1e-12 tolerance to the last bit; counted as "
        "equivalent",
    "smecluster.analytics.cluster_indicators.x__member_share__mutmut_2":
        "the FROM ... LEFT JOIN ... ON ... AND clause in lower case: SQL keywords ignore case, the same query",
    "smecluster.analytics.engines.xǁDuckDBEngineǁarrow__mutmut_5":
        "DuckDB's result streamed in batches of 2**18 rows instead of 2**17 before read_all(): the same table "
        "(a memory setting)",
    "smecluster.analytics.enterprise_facts.x__year_select__mutmut_2":
        '_year_select\'s default key "USCC" instead of "uscc": the default is never used (facts_sql, its only '
        "caller, always passes its own key), so no query changes",
    "smecluster.analytics.snapshot.x_load_snapshot__mutmut_2":
        'scope "ALL" instead of "all" by default: _filters compares the scope with "clusters" only, so every '
        "other value reads the same tables",
    "smecluster.analytics.snapshot_files.x__write_lookup__mutmut_35":
        "the keyed IPC copy written without LZ4 compression: the same batches read back (a disk-size setting, "
        "as _postgres_batches 42's block size)",
    "smecluster.analytics.snapshot_files.xǁStoredSnapshotǁconnect__mutmut_10":
        "SET ENABLE_PROGRESS_BAR = FALSE instead of lower case: DuckDB reads setting names and keywords "
        "without regard to case",
    "smecluster.analytics.tier_query.x__verdict_layers__mutmut_23":
        "a criterion's maximum points written 20.0 instead of 20 in the group sums: every group sum is CAST to "
        "SMALLINT (whole points) or REAL, and 20.0 and 20 compare and add alike, so the same columns result",
    "smecluster.analytics.tier_sql.x_band_points_sql__mutmut_14":
        '"tinyint" instead of "TINYINT" as the CAST type of whole points: SQL type names ignore case',
    "smecluster.analytics.tier_sql.x_band_points_sql__mutmut_89":
        "a band's tests joined with ' and ' instead of ' AND ' in its CASE WHEN: SQL keywords ignore case",
    "smecluster.analytics.enterprise_facts.x_facts_sql__mutmut_83":
        'size_class_sql(..., "e.industry_code") reads the section from the unqualified column "section" instead '
        'of "s.section": s (the industry sections) is the only relation of that query with such a column',
}


def why_equivalent(mutant: str) -> str | None:
    """The reason a mutant is listed as equivalent, or None."""
    for pattern, why in EQUIVALENT.items():
        if fnmatch.fnmatch(mutant, pattern):
            return why
    return None

# A timeout (or a kill at the time limit, "segfault") counts as killed, as mutmut counts it, but the figures
# give it apart and the score without it, since on a loaded machine a slow mutant can also time out.
KILLED = {"killed", "timeout", "segfault", "caught by type check"}
SLOW = {"timeout", "segfault"}


def mutant_names(work: Path) -> list[str]:
    """Every mutant of the package, by generating them in its copy."""
    out = subprocess.run([sys.executable, "-c", GENERATE], cwd=work, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(name: str, max_children: int, sample: int | None, seed: int,
        only: list[str] | None) -> tuple[float, list[str], list[str]]:
    """Run mutmut on one package: all its mutants, a seeded sample of them, or the ones named.

    Returns the seconds it took, every mutant's name and the names run. Output goes to .mutation/<name>.log.
    """
    work = prepare(name)
    names = mutant_names(work)
    chosen = only
    if chosen is not None:
        unknown = [c for c in chosen if c not in names]
        if unknown:
            raise SystemExit(f"{name}: no such mutant(s): {', '.join(unknown)}")
    elif sample:
        chosen = sorted(random.Random(seed).sample(names, min(sample, len(names))))
    env = {k: v for k, v in os.environ.items() if k not in ("SMECLUSTER_REQUIRE_POSTGRES",)}
    start = time.perf_counter()
    with (WORK / f"{name}.log").open("w", encoding="utf-8") as log:
        subprocess.run([sys.executable, "-c", MUTMUT_RUN, "run", "--max-children", str(max_children),
                        *(chosen or [])], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    return time.perf_counter() - start, names, chosen if chosen is not None else names


def statuses(name: str) -> dict[str, str]:
    """Each mutant's status in the package's copy (killed, survived, timeout, not checked, ...)."""
    listing = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=WORK / name, capture_output=True,
                             text=True, check=False).stdout
    out = {}
    for line in listing.splitlines():
        key, sep, status = line.strip().rpartition(": ")
        if sep and key.startswith("smecluster"):
            out[key] = status
    return out


def diff(name: str, mutant: str) -> str:
    """The mutant's diff against the original source."""
    return subprocess.run([str(MUTMUT), "show", mutant], cwd=WORK / name, capture_output=True, text=True,
                          check=False).stdout.strip()


# Writes each mutant named on the command line into the current source of the repository given first, and prints
# {mutant: {"path": file, "source": the file with the mutant in it} or {"stale": why}} as JSON. Runs in the
# package's copy (.mutation/<package>), where mutmut keeps the mutated functions. The function is looked up by
# class and name, and it must read as it did when the mutants were made, or the mutant would undo a later change.
APPLY = """
import json, sys
from pathlib import Path
import libcst as cst
from mutmut.mutation.diff_apply import find_mutant, read_functions_from_index, read_mutants_module
from mutmut.mutation.diff_apply import read_mutant_function, read_original_function
from mutmut.utils.format_utils import mangled_name_from_mutant_name, parse_mutant_key

def find(module, name, cls):
    body = module.body
    if cls:
        body = next((c.body.body for c in module.body if isinstance(c, cst.ClassDef) and c.name.value == cls), [])
    return next((f for f in body if isinstance(f, cst.FunctionDef) and f.name.value == name), None)

def bare(module, f):
    return module.code_for_node(f.with_changes(leading_lines=[], decorators=[])).strip()

root, out = Path(sys.argv[1]), {}
for mutant in sys.argv[2:]:
    try:
        path = find_mutant(mutant).path
    except FileNotFoundError:
        out[mutant] = {"stale": "no such mutant any more (its function changed since the run)"}
        continue
    pair = read_functions_from_index(mutant, path)
    if pair is None:
        mutated = read_mutants_module(path)
        pair = read_original_function(mutated, mutant), read_mutant_function(mutated, mutant)
    name, cls = parse_mutant_key(mangled_name_from_mutant_name(mutant).rpartition(".")[2])
    module = cst.parse_module((root / path).read_text(encoding="utf-8"))
    current = find(module, name, cls)
    if current is None:
        out[mutant] = {"stale": f"{name} is no longer in {path}"}
    elif bare(module, current) != bare(module, pair[0]):
        out[mutant] = {"stale": f"{name} in {path} has changed since the mutants were made"}
    else:
        new = pair[1].with_changes(leading_lines=current.leading_lines, decorators=current.decorators)
        out[mutant] = {"path": str(path), "source": module.deep_replace(current, new).code}
print(json.dumps(out))
"""
RECHECK_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-k", "not postgresql",
                "-W", "ignore::DeprecationWarning"]


def _pytest(cwd: Path, tests: list[str], limit: float, postgres: bool = False) -> tuple[str, str]:
    """Run pytest on tests in cwd: ("failed", first failing test), ("passed", ""), or ("timeout", "")."""
    args = [a for a in RECHECK_ARGS if not postgres or a != "not postgresql"]
    if postgres:
        args.remove("-k")
    env = {k: v for k, v in os.environ.items() if k not in ("SMECLUSTER_REQUIRE_POSTGRES", "MUTANT_UNDER_TEST")}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", *args, "-rfE", *tests], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    if done.returncode == 0:
        return "passed", ""
    if done.returncode == 5:  # nothing collected: a selection problem, not a kill
        return "error", "no tests collected"
    failed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return "failed", failed[0] if failed else f"pytest exit {done.returncode}"


def recheck(name: str, result: dict, only: list[str] | None, limit: float, tests: list[str] | None = None,
            postgres: bool = False, unrun: bool = False, jobs: int = 1) -> dict:
    """Settle the package's timeouts and survivors without mutmut's time limit.

    Each mutant that mutmut did not plainly kill (timeout, survived, no tests, ...) is written into a scratch
    copy of the repository (.mutation/<name>.recheck, made from the current sources and tests; the working tree
    is never touched) and the package's guard tests are run in a fresh process: first the tests mutmut found
    calling the mutated function, then, if they pass, the whole subset (or `tests`, e.g. a new test written
    since the run, which mutmut's statistics cannot name). A failing test is a kill only if the
    same test passes again once the file is restored (checked in one run at the end). Returns mutant ->
    {"status": killed | survived | timeout | stale | error, "test": the failing test, "seconds": ...}.
    Mutants listed in EQUIVALENT are left out unless named in `only`; `postgres` runs the PostgreSQL
    variants of the tests too (the mutmut runs are SQLite only); `unrun` also runs the mutants an interrupted
    mutmut run never reached, which then count in the re-checked score; `jobs` scratch copies run mutants side
    by side (each copy holds one mutant at a time).
    """
    work, scratch = WORK / name, WORK / f"{name}.recheck"
    done = result.get("recheck", {})
    targets = only or sorted(m for m, s in result["status"].items()
                             if s not in ("killed", "caught by type check", *(() if unrun else ("not checked",)))
                             and done.get(m, {}).get("status") != "killed" and not why_equivalent(m))
    if not targets:
        return {}
    if not (work / "mutants").exists():  # results kept from another checkout: make the mutants again
        mutant_names(prepare(name))
    scratches = [scratch] + [WORK / f"{name}.recheck{i}" for i in range(2, jobs + 1)]
    for copy in scratches:
        if copy.exists():
            shutil.rmtree(copy)
        copy.mkdir(parents=True)
        for item in COPY:
            shutil.copytree(ROOT / item, copy / item, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    sources = json.loads(subprocess.run([sys.executable, "-c", APPLY, str(ROOT), *targets], cwd=work,
                                        capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    # which tests call which function: known only where mutmut ran here (else the subset alone is run)
    stats = work / "mutants" / "mutmut-stats.json"
    by_function = (json.loads(stats.read_text(encoding="utf-8"))["tests_by_mangled_function_name"]
                   if stats.exists() else {})
    subset = tests or PACKAGES[name][1]
    verdicts: dict[str, dict] = {}
    free: queue.Queue[Path] = queue.Queue()
    for copy in scratches:
        free.put(copy)

    def one(mutant: str) -> None:
        got = sources[mutant]
        if "stale" in got:
            verdicts[mutant] = {"status": "stale", "test": got["stale"], "seconds": 0}
            print(f"  {mutant}: stale ({got['stale']})", flush=True)
            return
        copy = free.get()
        path = copy / got["path"]
        original = path.read_text(encoding="utf-8")
        called = sorted(t for t in by_function.get(mutant.rpartition("__mutmut_")[0], [])
                        if not t.endswith("postgresql]"))
        start = time.perf_counter()
        try:
            path.write_text(got["source"], encoding="utf-8")
            outcome, test = _pytest(copy, called, limit, postgres) if called else ("passed", "")
            if outcome == "passed":
                outcome, test = _pytest(copy, subset, limit, postgres)
        finally:
            path.write_text(original, encoding="utf-8")
            free.put(copy)
        status = {"failed": "killed", "passed": "survived"}.get(outcome, outcome)
        verdicts[mutant] = {"status": status, "test": test, "seconds": round(time.perf_counter() - start)}
        print(f"  {mutant}: {status} {test} ({verdicts[mutant]['seconds']} s)", flush=True)

    with ThreadPoolExecutor(max_workers=len(scratches)) as pool:
        list(pool.map(one, targets))
    # the killing tests must pass on the real code, or the kill was the test's own failure
    killers = sorted({v["test"] for v in verdicts.values() if v["status"] == "killed" and "::" in v["test"]})
    if killers:
        env = {k: v for k, v in os.environ.items() if k not in ("SMECLUSTER_REQUIRE_POSTGRES",)}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", *killers],
                              cwd=scratch,
                              env=env, capture_output=True, text=True, check=False)
        broken = {line.split()[1] for line in done.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))}
        for v in verdicts.values():
            if v["test"] in broken:
                v["status"] = "error"
                v["test"] += " (fails on the real code too)"
    return verdicts


def summarise(name: str, result: dict) -> dict:
    """Counts and score of the mutants run so far (result["status"]: mutant -> status)."""
    status = result["status"]
    checked = {m: s for m, s in status.items() if s != "not checked"}
    counts: dict[str, int] = {}
    for s in checked.values():
        counts[s] = counts.get(s, 0) + 1
    killed = sum(n for s, n in counts.items() if s in KILLED)
    survivors = sorted(m for m, s in checked.items() if s not in KILLED)
    equivalent = [m for m in survivors if why_equivalent(m)]
    slow = sum(n for s, n in counts.items() if s in SLOW)
    result.update(package=name, checked=len(checked), counts=counts, killed=killed,
                  score=killed / len(checked) if checked else None,
                  score_without_timeouts=(killed - slow) / len(checked) if checked else None,
                  timeouts=sorted(m for m, s in checked.items() if s in SLOW),
                  score_without_equivalent=(killed / (len(checked) - len(equivalent))
                                            if len(checked) > len(equivalent) else None),
                  survivors=[m for m in survivors if m not in equivalent],
                  equivalent={m: why_equivalent(m) for m in equivalent})
    # after --recheck: each mutant counted by the re-check's verdict where it has one; a timeout or survivor not
    # re-checked counts as not killed (a timeout is no proof of a kill on a loaded machine)
    # mutants mutmut never reached (an interrupted run) count once the re-check has run them (--recheck-unrun)
    verdicts = {m: v["status"] for m, v in result.get("recheck", {}).items() if m in status}
    if verdicts or (checked and not slow):  # with no timeout at all there is nothing to settle
        # a mutant whose function has changed since the run no longer exists: it is left out (stale)
        pool = {m: s for m, s in {**checked, **{m: status[m] for m in verdicts}}.items()
                if verdicts.get(m) != "stale"}
        final = {m: verdicts.get(m, "killed" if s in ("killed", "caught by type check") else s)
                 for m, s in pool.items()}
        left = sorted(m for m, s in final.items() if s != "killed")
        left_equivalent = [m for m in left if why_equivalent(m)]
        real = sum(1 for s in final.values() if s == "killed")
        result.update(rechecked=len(verdicts) or None,
                      rechecked_killed=sum(1 for s in verdicts.values() if s == "killed"),
                      rechecked_unrun=sum(1 for m in verdicts if m not in checked), run_rechecked=len(pool),
                      stale=sorted(m for m, v in verdicts.items() if v == "stale"),
                      score_rechecked=real / len(pool),
                      score_rechecked_without_equivalent=(real / (len(pool) - len(left_equivalent))
                                                          if len(pool) > len(left_equivalent) else None),
                      survivors_rechecked=[m for m in left if m not in left_equivalent],
                      equivalent_rechecked=left_equivalent)
    else:
        for key in ("rechecked", "rechecked_killed", "rechecked_unrun", "run_rechecked", "stale", "score_rechecked",
                    "score_rechecked_without_equivalent", "survivors_rechecked", "equivalent_rechecked"):
            result.pop(key, None)
    return result


def load(name: str) -> dict | None:
    """The package's kept results, if any."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def markdown(results: list[dict]) -> str:
    """The summary table and the survivors' diffs, for bench/results/mutation.md."""
    lines = ["# Mutation score per guard package", "",
             "Written by `bench/mutation.py` (mutmut, SQLite test subsets; see decisions 1102 and 2250). mutmut "
             "counts a timeout or a crash of the mutated code as killed (*mutmut score*). `--recheck` then runs "
             "every timeout and survivor again, written into a scratch copy, against the package's tests with no "
             "time limit: the *re-checked score* counts each mutant by that verdict (a timeout whose tests pass "
             "is a survivor; one not re-checked counts as not killed). *Sample* says how many mutants of the "
             "package were drawn (seeded) when not all were run. An interrupted run (*run*: x of N) counts only "
             "the mutants mutmut reached. Survivors killed by new tests are listed in "
             "bench/results/mutation-survivors.md.", "",
             "| package | mutants | run | sample seed | killed (incl. timeouts) | survived | no tests | timeout "
             "| mutmut score | timeouts as not killed | re-checked (of them killed) | re-checked score "
             "| re-checked, without equivalent |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def pct(x: float | None) -> str:
        return f"{x:.1%}" if x is not None else "n/a"

    for r in results:
        c = r["counts"]
        slow = c.get("timeout", 0) + c.get("segfault", 0)
        run_ = f"{r['checked']} of {len(r['status'])}" if r.get("interrupted") else str(r["checked"])
        again = (f"{r['rechecked']} ({r['rechecked_killed']})" if r.get("rechecked")
                 else "none needed (no timeout)" if r.get("score_rechecked") is not None else "not yet")
        if r.get("stale"):
            again += f"; {len(r['stale'])} stale (function changed since the run), left out"
        if r.get("rechecked_unrun"):
            again += f"; {r['rechecked_unrun']} of them not run by mutmut, so {r['run_rechecked']} counted"
        lines.append(f"| {r['package']} | {r['total']} | {run_} | {r.get('seed') or 'all'} "
                     f"| {r['killed']} | {c.get('survived', 0)} | {c.get('no tests', 0)} | {slow} "
                     f"| {pct(r['score'])} | {pct(r.get('score_without_timeouts'))} | {again} "
                     f"| {pct(r.get('score_rechecked'))} | {pct(r.get('score_rechecked_without_equivalent'))} |")
    for r in results:
        checks = r.get("recheck", {})
        left = r["survivors_rechecked"] if "survivors_rechecked" in r else r["survivors"]
        equivalent = (r["equivalent_rechecked"] if "equivalent_rechecked" in r else list(r["equivalent"]))
        if not left and not equivalent:
            continue
        lines += ["", f"## {r['package']}", ""]
        for m in left:
            how = f"mutmut: {r['status'][m]}"
            if m in checks:
                how += f"; re-checked: {checks[m]['status']} {checks[m]['test']}".rstrip()
            lines += [f"### {m} ({how})", "", "```diff", r["diffs"].get(m, ""), "```", ""]
        for m in equivalent:
            lines += [f"### {m} (equivalent; mutmut: {r['status'][m]})", "", why_equivalent(m) or "", "",
                      "```diff", r["diffs"].get(m, ""), "```", ""]
    slow = [(r, m) for r in results for m in r.get("timeouts", [])]
    if slow:
        lines += ["", "## Timeouts of the mutmut runs and their re-check", ""]
        for r, m in slow:
            check = r.get("recheck", {}).get(m)
            verdict = f"{check['status']} {check['test']}".rstrip() if check else "not re-checked"
            lines.append(f"- {r['package']}: `{m}`: {verdict}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the packages asked for (default: all) and print each one's score and survivors."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("packages", nargs="*", help=f"packages to run (default: all): {', '.join(PACKAGES)}")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant runs (default 2)")
    parser.add_argument("--report", action="store_true", help="only print the figures of the last runs")
    parser.add_argument("--sample", type=int, help="run this many mutants per package, drawn at random (seeded)")
    parser.add_argument("--seed", type=int, default=1600, help="seed of --sample (default 1600)")
    parser.add_argument("--collect", action="store_true",
                        help="keep the results of an interrupted run (its copy is read; mutants not run are "
                             "'not checked' and left out of the score); give the same --sample and --seed, or "
                             "the same --only names (then the kept results of mutants it did not reach stay)")
    parser.add_argument("--only", nargs="+", metavar="MUTANT",
                        help="run only these mutants of one package; their results replace the kept ones")
    parser.add_argument("--recheck", action="store_true",
                        help="settle the kept timeouts and survivors (or the --only names) of the packages named: "
                             "each is written into a scratch copy and the package's tests run with no mutmut "
                             "time limit; the verdicts are kept beside mutmut's and give the re-checked score")
    parser.add_argument("--recheck-timeout", type=float, default=1800,
                        help="seconds one pytest run of --recheck may take before it is a timeout (default 1800)")
    parser.add_argument("--recheck-tests", nargs="+", metavar="TEST",
                        help="with --recheck: run these tests (files or node ids) after the ones mutmut saw calling "
                             "the mutant, instead of the package's whole subset")
    parser.add_argument("--recheck-postgres", action="store_true",
                        help="with --recheck: run the PostgreSQL variants of the tests too")
    parser.add_argument("--recheck-jobs", type=int, default=1,
                        help="with --recheck: mutants re-checked side by side, each in its own scratch copy")
    parser.add_argument("--recheck-unrun", action="store_true",
                        help="with --recheck: also run the mutants an interrupted mutmut run never reached")
    args = parser.parse_args(argv)
    names = args.packages or list(PACKAGES)
    unknown = [n for n in names if n not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)}; known: {', '.join(PACKAGES)}")
    if args.only and len(names) != 1:
        parser.error("--only needs exactly one package")
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        kept = load(name)
        if args.recheck:
            if kept is None:
                raise SystemExit(f"{name}: nothing to re-check (run the package first)")
            print(f"{name}: re-checking", flush=True)
            kept.setdefault("recheck", {}).update(recheck(name, kept, args.only, args.recheck_timeout,
                                                          args.recheck_tests, args.recheck_postgres,
                                                          args.recheck_unrun, args.recheck_jobs))
            summarise(name, kept)
            shown = {*kept["survivors"], *kept["equivalent"], *kept.get("survivors_rechecked", []),
                     *kept.get("equivalent_rechecked", [])}
            kept["diffs"] = {m: kept.get("diffs", {}).get(m) or diff(name, m) for m in sorted(shown)}
            (RESULTS / f"{name}.json").write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
        elif args.collect and args.only and kept and (WORK / name).exists():
            # an interrupted --only rerun: the mutants it reached replace their kept results, the rest stay
            now = statuses(name)
            reached = {m: now[m] for m in args.only if now.get(m, "not checked") != "not checked"}
            kept["status"].update(reached)
            for m in reached:  # mutmut's new verdict replaces an older re-check (as in a finished --only run)
                kept.get("recheck", {}).pop(m, None)
            kept["interrupted"] = any(s == "not checked" for s in kept["status"].values())
            summarise(name, kept)
            kept["diffs"] = {m: diff(name, m) for m in [*kept["survivors"], *kept["equivalent"]]}
            (RESULTS / f"{name}.json").write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
            print(f"{name}: {len(reached)} of the {len(args.only)} mutants named were run again")
        elif args.collect and (WORK / name).exists():
            all_names = mutant_names(WORK / name)
            picked = (sorted(random.Random(args.seed).sample(all_names, min(args.sample, len(all_names))))
                      if args.sample else all_names)
            now = statuses(name)
            result = {"total": len(all_names), "seed": args.seed if args.sample else None,
                      "sample": len(picked) if args.sample else None, "seconds": None, "interrupted": True,
                      "status": {m: now.get(m, "not checked") for m in picked}}
            summarise(name, result)
            result["diffs"] = {m: diff(name, m) for m in [*result["survivors"], *result["equivalent"]]}
            (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
            kept = result
        elif not args.report:
            seconds, all_names, picked = run(name, args.max_children, args.sample, args.seed, args.only)
            now = statuses(name)
            if args.only and kept:
                result = kept
                result["status"].update({m: now.get(m, "not checked") for m in picked})
                for m in picked:  # mutmut's new verdict replaces an older re-check
                    result.get("recheck", {}).pop(m, None)
                result["seconds"] = round((result.get("seconds") or 0) + seconds)
            else:
                result = {"total": len(all_names), "seed": args.seed if args.sample else None,
                          "sample": len(picked) if args.sample else None, "seconds": round(seconds),
                          "status": {m: now.get(m, "not checked") for m in picked}}
            summarise(name, result)
            result["diffs"] = {m: diff(name, m) for m in [*result["survivors"], *result["equivalent"]]}
            (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
            kept = result
        if kept is None:
            print(f"{name}: no results (see .mutation/{name}.log)")
            continue
        r = summarise(name, kept)
        score = f"{r['score']:.1%}" if r["score"] is not None else "n/a"
        sample = f"sample of {r['sample']} (seed {r['seed']}) " if r.get("sample") else ""
        if r.get("interrupted"):
            sample = f"interrupted: {len(r['status']) - r['checked']} not run; " + sample
        print(f"{name}: {r['killed']} killed of {r['checked']} run = {score} ({sample}of {r['total']} mutants; "
              f"{', '.join(f'{s} {n}' for s, n in sorted(r['counts'].items()))}; {r.get('seconds', '?')} s)")
        if r["equivalent"]:
            print(f"  without the {len(r['equivalent'])} equivalent: {r['score_without_equivalent']:.1%}")
        if r.get("rechecked"):
            without = r["score_rechecked_without_equivalent"]
            print(f"  re-checked {r['rechecked']} (killed {r['rechecked_killed']}): score {r['score_rechecked']:.1%}"
                  + (f", without equivalent {without:.1%}" if without is not None else ""))
            for m in r["survivors_rechecked"]:
                v = r["recheck"].get(m, {})
                print(f"  left       {m} (mutmut: {r['status'][m]}; re-check: {v.get('status', 'not run')})")
        if r.get("timeouts"):
            print(f"  timeouts as not killed: {r['score_without_timeouts']:.1%}")
            for m in r["timeouts"]:
                print(f"  timeout    {m}")
        for m in r["survivors"]:
            print(f"  {r['status'][m]:<10} {m}")
        for m in r["equivalent"]:
            print(f"  equivalent {m}: {r['equivalent'][m]}")
    done = [r for r in (load(n) for n in PACKAGES) if r]
    (RESULTS.parent / "mutation.md").write_text(markdown([summarise(r["package"], r) for r in done]),
                                                encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
