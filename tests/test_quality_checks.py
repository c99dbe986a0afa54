"""The data-quality checks that need many rows: peers (robust z), Benford's first digits, declared figures."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import polars as pl
import pytest
from builders import RegistryBuilder

from smecluster.db import open_database
from smecluster.policy.evaluate import DISCREPANCY_TOLERANCE
from smecluster.quality.catalogue import load_checks
from smecluster.quality.scenarios import load_case_rows, seed_reference
from smecluster.services.quality import quality_report

Z = 0.6745


def test_declared_tolerance_is_the_verdicts():
    """The declared-figure check flags from the same share as the verdict's own discrepancy mark."""
    assert load_checks().get("declared_differs").params["tolerance"] == DISCREPANCY_TOLERANCE


@pytest.mark.parametrize(("declared", "flagged"), [(0.532, True), (0.52, False)])
def test_declared_against_computed(tmp_path, declared, flagged):
    """Cloud share computed 0.5: declared 0.532 differs by 6% (flagged), 0.52 by 3.8% (inside 5%)."""
    engine = open_database(f"sqlite:///{tmp_path / 'd.db'}")
    b = RegistryBuilder(engine, members=20)
    b.on_cloud(10)
    b.declared = {"cloud_share": declared}
    b.build()
    found = quality_report(engine).findings.filter(pl.col("check") == "declared_differs")
    assert (found.height == 1) is flagged
    if flagged:
        row = found.row(0, named=True)
        assert row["field"] == "cloud_share" and row["value"] == declared and row["cluster_id"] == 1
        assert row["score"] == pytest.approx((declared - 0.5) / declared)


def test_declared_against_computed_on_both_databases(database_url):
    """The same finding on SQLite and PostgreSQL."""
    engine = open_database(database_url)
    b = RegistryBuilder(engine, members=20)
    b.on_cloud(10)
    b.declared = {"cloud_share": 0.6}
    b.build()
    found = quality_report(engine).findings.filter(pl.col("check") == "declared_differs")
    assert found["field"].to_list() == ["cloud_share"]


def _peers(base: list[float], extra: list[float]) -> tuple[float, float]:
    values = base + extra
    med = statistics.median(values)
    return med, statistics.median(abs(v - med) for v in values)


def test_peer_outlier_just_beyond_and_just_inside(database_url):
    """Of 30 peers (one division, one size class), R&D intensity at z 3.6 is flagged and at z 3.4 is not."""
    engine = open_database(database_url)
    seed_reference(engine)
    base = [0.030 + 0.0005 * i for i in range(28)]  # tightly together: the two extra ones are the farthest
    med, mad = _peers(base, [1.0, 1.0])  # the extremes' values do not move median or MAD (ranks only)
    above, inside = med + 3.6 * mad / Z, med + 3.4 * mad / Z
    firms = {f"F{i}": {"years": {2025: {"revenue": 5000, "rd_spending": 5000 * x, "employees": 50,
                                        "output": 5000, "total_assets": 5000}}}
             for i, x in enumerate([*base, above, inside])}
    codes, _ = load_case_rows(engine, {"firms": firms})
    found = quality_report(engine).findings.filter(pl.col("check") == "peer_outlier")
    assert set(found["uscc"].to_list()) == {codes["F28"]}
    assert found["score"][0] == pytest.approx(Z * (above - med) / mad)


P = [math.log10(1 + 1 / d) for d in range(1, 10)]


def _mad(counts: list[int]) -> float:
    n = sum(counts)
    return sum(abs(k / n - p) for k, p in zip(counts, P, strict=True)) / 9


def _counts(shift: int, n: int = 1000) -> list[int]:
    counts = [round(n * p) for p in P]
    counts[0] += n - sum(counts)
    counts[0] -= shift  # move `shift` figures from first digit 1 to 9
    counts[8] += shift
    return counts


def test_benford_flags_just_beyond_nonconformity(database_url):
    """A county whose first-digit MAD is just above 0.015 is a signal; one just below is not (marginal)."""
    engine = open_database(database_url)
    seed_reference(engine)
    shift = next(m for m in range(1, 500) if _mad(_counts(m)) > 0.015)
    beyond, inside = _counts(shift), _counts(shift - 1)
    assert _mad(inside) <= 0.015 < _mad(beyond)
    firms = {}
    for county, counts in (("320481", beyond), ("320412", inside)):
        for d, k in enumerate(counts, start=1):
            for j in range(k):
                firms[f"{county}-{d}-{j}"] = {"county": county,
                                              "years": {2025: {"revenue": d * 100 + (j % 97) + 0.5}}}
    load_case_rows(engine, {"firms": firms})
    report = quality_report(engine)
    digits = {r["county_code"]: r for r in report.digits.to_dicts()}
    assert digits["320481"]["mad"] == pytest.approx(_mad(beyond)) and digits["320481"]["flagged"]
    assert digits["320412"]["band"] == "marginal" and not digits["320412"]["flagged"]
    n = sum(beyond)
    chi2 = sum((k - n * p) ** 2 / (n * p) for k, p in zip(beyond, P, strict=True))
    assert digits["320481"]["chi2"] == pytest.approx(chi2)
    signals = report.findings.filter(pl.col("check") == "benford_first_digit")
    assert signals["county_code"].to_list() == ["320481"] and signals["severity"].to_list() == ["signal"]


def test_tied_findings_come_out_in_one_order(tmp_path):
    """Findings of equal severity and score are listed by check, county and firm, whatever order they came in."""
    from smecluster.quality.run import FINDING_SCHEMA
    from smecluster.services.quality import _describe

    engine = open_database(f"sqlite:///{tmp_path / 't.db'}")
    rows = [{"check": "rd_above_revenue", "uscc": code, "county_code": "320581", "year": 2024,
             "field": "rd_spending", "value": 2.0, "detail": "revenue 1", "score": 2.0, "cluster_id": None,
             "platform_id": None} for code in ("91320581B", "91320581A", "91320581C")]
    findings = pl.DataFrame(rows, schema=FINDING_SCHEMA)
    for given in (findings, findings.reverse()):
        out = _describe(engine, given, load_checks())
        assert out["uscc"].to_list() == ["91320581A", "91320581B", "91320581C"]


def test_kept_findings_are_named_by_checks_size_classes_and_code(tmp_path, monkeypatch):
    """A change to the size classes or to any module computing the checks names the kept findings anew."""
    from smecluster.quality import sweep
    from smecluster.services.quality import _fingerprint

    catalogue = load_checks()
    first = _fingerprint(catalogue, "CASE WHEN revenue >= 500 THEN 'large' ELSE 'small' END")
    assert _fingerprint(catalogue, "CASE WHEN revenue >= 400 THEN 'large' ELSE 'small' END") != first
    changed = tmp_path / "sweep.py"
    changed.write_bytes(Path(sweep.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(sweep, "__file__", str(changed))
    assert _fingerprint(catalogue, "CASE WHEN revenue >= 500 THEN 'large' ELSE 'small' END") != first
