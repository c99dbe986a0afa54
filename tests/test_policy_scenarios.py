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
    assert failures == [], "\n".join(f"{f.case}: {f.check} expected {f.expected}, got {f.got}" for f in failures)


def test_a_failing_case_is_reported_with_its_file_case_check_and_both_values(tmp_path):
    """A case expecting the wrong status is one failure naming the file, the case, the criterion, the status
    expected and the one the pack gives (9.99% growth fails J6, the case says pass)."""
    from smecluster.policy.scenario_result import ScenarioFailure

    path = tmp_path / "wrong.yaml"
    path.write_text("pack: jiangsu-cluster-2023\ncases:\n  - name: 9.99% growth said to pass\n"
                    "    input: {sme_rd_cagr: 0.0999}\n    expect: {J6: pass}\n", encoding="utf-8")
    assert run_scenario_file(path) == (1, [ScenarioFailure(str(path), "9.99% growth said to pass", "J6", "pass",
                                                           "fail")])
