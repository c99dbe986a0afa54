"""YAML scenario files under tests/scenarios/clusters run as tests, one test per file."""

from pathlib import Path

import pytest

from smecluster.policy.scenarios import run_scenario_file

FILES = sorted((Path(__file__).parent / "scenarios" / "clusters").glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_file(path):
    """Every case of the scenario file gives the statuses it expects."""
    ran, failures = run_scenario_file(path)
    assert ran > 0
    assert failures == [], "\n".join(f"{f.case}: {f.criterion} expected {f.expected}, got {f.got}" for f in failures)
