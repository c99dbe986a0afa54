"""YAML scenarios a policy officer can write (tests/scenarios/tiers/*.yaml), one test per file."""

from __future__ import annotations

import pytest
from tier_helpers import SCENARIOS

from smecluster.policy.tier_scenarios import run_tier_scenarios

FILES = sorted(p for p in SCENARIOS.glob("*.yaml") if p.name != "bases.yaml")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_file(path):
    """Every case of the file gives the statuses, points and outcome it expects."""
    ran, failures = run_tier_scenarios(path)
    assert ran > 0
    assert failures == [], "\n".join(f"{f.case}: {f.key} expected {f.expected}, got {f.got}" for f in failures)


def test_a_wrong_expectation_is_reported(tmp_path):
    """A case expecting the wrong points is reported with its name, key and both values."""
    (tmp_path / "bases.yaml").write_text((SCENARIOS / "bases.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "wrong.yaml").write_text(
        "- name: wrong\n  period: 2025-06-30\n  tier: innovative_sme\n  base: weak\n"
        "  input: {main_revenue: 11500.0, main_revenue_prev: 10000.0}\n  expected: {I-S3: {points: 15}}\n",
        encoding="utf-8")
    ran, failures = run_tier_scenarios(tmp_path / "wrong.yaml")
    assert ran == 1 and [(f.case, f.key, f.got) for f in failures] == [("wrong", "I-S3", {"points": 20})]
