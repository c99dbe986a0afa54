"""YAML scenarios a policy officer can write (tests/scenarios/tiers/*.yaml): input fields -> expected statuses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from tier_helpers import BASES, STRONG, evaluate_one

SCENARIO_DIR = Path(__file__).with_name("scenarios") / "tiers"


def _scenarios():
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        if path.name == "bases.yaml":
            continue
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            yield pytest.param(case, id=f"{path.stem}: {case['name']}")


@pytest.mark.parametrize("case", list(_scenarios()))
def test_scenario(case):
    """The evaluated firm shows the statuses, points and outcome the scenario expects."""
    base = {**STRONG, **BASES[case["base"]]} if case.get("base", "strong") != "strong" else dict(STRONG)
    period = case["period"] if isinstance(case["period"], date) else date.fromisoformat(case["period"])
    tier = case["tier"]
    out = evaluate_one({**base, **(case.get("input") or {})}, period, tier)
    plan = out["_plans"][tier]
    for key, want in case["expected"].items():
        if key == "pack":
            assert plan.pack.id == want
        elif key == "outcome":
            assert out[plan.col("outcome")] == want
        elif key == "score":
            assert out[plan.col("score")] == pytest.approx(want)
        elif isinstance(want, dict):
            assert out[plan.points[key]] == pytest.approx(want["points"]), key
        elif key in plan.points:  # a scored criterion is unknown without data, else assessed (pass)
            assert ("unknown" if out[plan.points[key]] is None else "pass") == want, key
        else:
            assert out[plan.status[key]] == want, key
