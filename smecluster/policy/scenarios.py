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

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from smecluster.policy.compile import indicator_column, required_columns
from smecluster.policy.evaluate import statuses
from smecluster.policy.pack import load_pack
from smecluster.policy.verdict import outcome_of


@dataclass
class ScenarioFailure:
    """A case whose statuses differ from what it expects."""

    file: str
    case: str
    criterion: str
    expected: str
    got: str


def run_scenario_file(path: Path | str) -> tuple[int, list[ScenarioFailure]]:
    """Run every case of a scenario file; returns (cases run, failures)."""
    path = Path(path)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
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


def _value(v):
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    return None if v is None else float(v)
