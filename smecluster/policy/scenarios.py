"""YAML scenario tests for policy packs (as in OpenFisca): indicator values in, statuses out.

A policy officer writes a case without Python:

    pack: jiangsu-cluster-2023
    cases:
      - name: growth of exactly 10% passes
        input: {sme_rd_cagr: 0.10}
        expect: {J6: pass}

Indicators a case does not give are missing (so criteria using them are unknown).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from smecluster.policy.compile import indicator_column, required_columns
from smecluster.policy.evaluate import statuses
from smecluster.policy.pack import load_pack
from smecluster.policy.scenario_result import BASES_FILE, ScenarioFailure, ScenarioFileError, read_yaml
from smecluster.policy.verdict import outcome_of


def run_scenario_file(path: Path | str) -> tuple[int, list[ScenarioFailure]]:
    """Run every case of a scenario file; returns (cases run, failures)."""
    path = Path(path)
    spec = read_yaml(path)
    pack = load_pack(spec["pack"])
    columns = sorted({indicator_column(n, dict(p)) for n, p in required_columns(pack.criteria)})
    cases = spec["cases"]
    rows = {"row": list(range(len(cases)))}
    for col in columns:
        rows[col] = [_value(case["input"].get(col)) for case in cases]
    table = pl.DataFrame(rows, schema={"row": pl.Int64, **{c: pl.Float64 for c in columns}})
    result = statuses(table, pack, "row").to_dicts()
    failures = []
    for case, got in zip(cases, result, strict=True):
        got = dict(got)
        got["outcome"], _ = outcome_of([got[c.id] for c in pack.criteria if c.role == "condition"])
        for criterion, expected in case["expect"].items():
            if got.get(criterion) != expected:
                failures.append(
                    ScenarioFailure(str(path), case["name"], criterion, expected, str(got.get(criterion)))
                )
    return len(cases), failures


def is_bases_file(path: Path | str) -> bool:
    """True for the tier scenarios' base-firm file, which a glob of the scenario folder picks up."""
    return Path(path).name == BASES_FILE


def run_scenarios(path: Path | str) -> tuple[int, list[ScenarioFailure]]:
    """Run a scenario file of either form: cluster packs (a mapping with `pack` and `cases`) or
    enterprise tiers (a list of cases; see policy.tier_scenarios).

    Raises ScenarioFileError when the file is not UTF-8 YAML or has neither form."""
    raw = read_yaml(path)
    if isinstance(raw, dict) and "pack" in raw and "watch" in raw:
        from smecluster.policy.watch_scenarios import run_watch_scenarios

        return run_watch_scenarios(path)
    if isinstance(raw, dict) and "pack" in raw:
        if not isinstance(raw.get("cases"), list) or not all(isinstance(c, dict) for c in raw["cases"]):
            raise ScenarioFileError(f"{path}: not a scenario file: 'cases' must be a list of cases")
        return run_scenario_file(path)
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise ScenarioFileError(
            f"{path}: not a scenario file: expected a mapping with 'pack' and 'cases' (cluster packs) "
            "or a list of cases (tiers)"
        )
    from smecluster.policy.tier_scenarios import run_tier_scenarios

    return run_tier_scenarios(path)


def _value(v):
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    return None if v is None else float(v)
