"""YAML scenarios for the tier packs: a firm's fields in, statuses, points and outcome out.

A policy officer writes a case without Python (file: a list of cases; `bases.yaml` beside it names
base firms):

    - name: 主营业务收入增长恰好15%得20分
      period: 2025-06-30          # the evaluation date: it picks the pack in force
      tier: innovative_sme
      base: weak                  # a firm of bases.yaml; fields not given are not reported
      input: {main_revenue: 11500.0, main_revenue_prev: 10000.0}
      expected: {pack: innovative-sme-2022, I-S3: {points: 20}, outcome: does_not_qualify}

`evaluation: review` evaluates a re-review (default: new application); with the date it picks the pack.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from smecluster.analytics.enterprise_facts import FACT_SCHEMA, certificate_columns, designation_columns
from smecluster.analytics.tier_query import OUTCOME_LABELS, STATUS_LABELS
from smecluster.policy.scenario_result import ScenarioFailure, read_yaml
from smecluster.services.tiers import evaluate_facts

SCHEMA = {**FACT_SCHEMA, **{c: pl.Boolean for c in designation_columns()}}


def facts_frame(*rows: dict) -> pl.DataFrame:
    """A fact table with one row per dict; fields not given are NULL (not reported), except the
    designation and certificate flags, which are FALSE (not held) as in a fact table built from data."""
    full = []
    for i, r in enumerate(rows):
        row = {c: None for c in SCHEMA} | {c: False for c in [*designation_columns(), *certificate_columns()]}
        row |= {"uscc": f"TEST{i:014d}", "name": f"测试企业{i}", "county_code": "320102", "industry_code": "3411"}
        full.append(row | r)
    return pl.DataFrame(full, schema=SCHEMA)


def evaluate_row(row: dict, on: date, tier: str | None = None, evaluation: str = "new") -> dict:
    """One firm's evaluated row with statuses and outcomes as words; `_plans` maps tier -> plan."""
    ev = evaluate_facts(facts_frame(row), on.year - 1, on, tier, evaluation=evaluation)
    out = ev.frame().row(0, named=True)
    for p in ev.tiers:
        for col in [*p.status.values(), p.col("required"), p.col("direct"), p.col("path")]:
            out[col] = STATUS_LABELS[out[col]]
        out[p.col("outcome")] = OUTCOME_LABELS[out[p.col("outcome")]]
    out["_plans"] = {p.tier: p for p in ev.tiers}
    return out


def load_bases(directory: Path) -> dict[str, dict]:
    """Base firms of bases.yaml: `strong`, and the others as changes to it."""
    raw = read_yaml(directory / "bases.yaml")
    strong = raw["strong"]
    return {name: strong if name == "strong" else {**strong, **(fields or {})} for name, fields in raw.items()}


def case_result(case: dict, bases: dict[str, dict]) -> dict:
    """What the case gives for each key it expects."""
    base = bases[case.get("base", "strong")]
    period = case["period"] if isinstance(case["period"], date) else date.fromisoformat(str(case["period"]))
    tier = case["tier"]
    out = evaluate_row({**base, **(case.get("input") or {})}, period, tier, case.get("evaluation", "new"))
    plan = out["_plans"][tier]
    got = {}
    for key, want in case["expected"].items():
        if key == "pack":
            got[key] = plan.pack.id
        elif key in ("outcome", "score"):
            got[key] = out[plan.col(key)]
        elif isinstance(want, dict):
            got[key] = {"points": out[plan.points[key]]}
        elif key in plan.points:  # a scored criterion is unknown without data, else assessed (pass)
            got[key] = "unknown" if out[plan.points[key]] is None else "pass"
        else:
            got[key] = out[plan.status[key]]
    return got


def run_tier_scenarios(path: Path | str) -> tuple[int, list[ScenarioFailure]]:
    """Run every case of a tier scenario file; returns (cases run, failures)."""
    path = Path(path)
    bases = load_bases(path.parent)
    cases = read_yaml(path) or []
    failures = []
    for case in cases:
        got = case_result(case, bases)
        for key, want in case["expected"].items():
            if got[key] != want:
                failures.append(ScenarioFailure(str(path), case["name"], key, want, got[key]))
    return len(cases), failures
