"""YAML scenario files under tests/scenarios/quality: each data-quality check flags exactly what they say."""

from pathlib import Path

import pytest

from smecluster.db import open_database
from smecluster.quality.catalogue import load_checks
from smecluster.quality.scenarios import run_scenario_file

FILES = sorted((Path(__file__).parent / "scenarios" / "quality").glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_file(path, database_url):
    """Every case flags exactly the firms or platforms it expects (SQLite and PostgreSQL)."""
    outcomes = run_scenario_file(open_database(database_url), path)
    assert outcomes
    bad = [o for o in outcomes if not o.ok]
    assert bad == [], "\n".join(f"{o.case} ({o.check}): expected {sorted(o.expected)}, got {sorted(o.got)}"
                                for o in bad)


def test_every_row_check_has_a_scenario():
    """Each check over firms' rows has a YAML case (peers, declared figures and digits: test_quality_checks.py)."""
    from smecluster.yamlio import safe_load

    covered = {case["check"] for p in FILES for case in safe_load(p.read_text(encoding="utf-8"))["cases"]}
    elsewhere = {"peer_outlier", "declared_differs", "benford_first_digit"}
    assert {c.id for c in load_checks().checks} - elsewhere <= covered
