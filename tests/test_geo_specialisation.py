"""Location quotients and industry shares."""

from __future__ import annotations

import polars as pl
import pytest

from smecluster.geo.specialisation import location_quotients


@pytest.fixture
def registry() -> tuple[pl.DataFrame, pl.DataFrame]:
    enterprise = pl.DataFrame(
        {
            "uscc": ["a", "b", "c", "d", "e", "f"],
            "county_code": ["320481", "320481", "320481", "320581", "320581", "320581"],
            "industry_code": ["3841", "3841", "1713", "1713", "1713", "3841"],
        }
    )
    years = pl.DataFrame(
        {
            "uscc": ["a", "b", "c", "d", "e", "f"],
            "year": [2025] * 6,
            "output": [60.0, 20.0, 20.0, 30.0, 30.0, 40.0],
            "employees": [10, 10, 20, 10, 10, 20],
        }
    )
    return enterprise, years


def test_location_quotients_by_hand(registry):
    """LQs equal the by-hand ratios of county share to province share for each measure."""
    table = location_quotients(*registry, year=2025)
    row = table.filter((pl.col("county_code") == "320481") & (pl.col("industry") == "38")).row(0, named=True)
    # Liyang: 38 has 2/3 firms, 20/40 employees, 80/100 output; province: 3/6, 40/80, 120/200.
    assert row["lq_firms"] == pytest.approx((2 / 3) / (3 / 6))
    assert row["lq_employment"] == pytest.approx((20 / 40) / (40 / 80))
    assert row["lq_output"] == pytest.approx((80 / 100) / (120 / 200))
    assert row["share_output"] == pytest.approx(0.8)
    assert row["share_employment"] == pytest.approx(0.5)


def test_chain_groups(registry):
    """A chain map groups codes by prefix and gives the chain's LQ per county."""
    table = location_quotients(*registry, year=2025, chains={"battery": ["384"]})
    row = table.filter(pl.col("county_code") == "320581").row(0, named=True)
    assert row["industry"] == "battery"
    assert row["lq_output"] == pytest.approx((40 / 100) / (120 / 200))


def test_unknown_level_rejected(registry):
    """An unknown industry level is a clear error."""
    with pytest.raises(ValueError, match="unknown industry level"):
        location_quotients(*registry, year=2025, level="section")


def test_pillar_test_uses_pack_thresholds():
    """An industry is a county pillar only when both its output and employment shares reach the pack's."""
    from smecluster.policy.pack import load_pack
    from smecluster.services.geography import with_pillar_test

    pack = load_pack("jiangsu-cluster-2023")
    t_output = next(c.threshold for c in pack.all_criteria() if c.indicator == "leading_output_share_county")
    t_empl = next(c.threshold for c in pack.all_criteria() if c.indicator == "leading_employment_share_county")
    table = pl.DataFrame(
        {
            "share_output": [t_output, t_output - 0.001, t_output + 0.1, None],
            "share_employment": [t_empl, t_empl + 0.1, t_empl - 0.001, t_empl],
        }
    )
    out = with_pillar_test(table, pack)
    assert out["pillar"].to_list() == [True, False, False, False]
    assert not out["pillar_verified"].any()  # the pack marks these thresholds UNVERIFIED


def test_chain_map_file_errors_are_clear(tmp_path):
    """A chain map that is not name -> list of prefixes is rejected naming the file."""
    from smecluster.services.geography import read_chain_map

    good = tmp_path / "chains.yaml"
    good.write_text('battery: ["384"]\n', encoding="utf-8")
    assert read_chain_map(good) == {"battery": ["384"]}
    bad = tmp_path / "bad.yaml"
    bad.write_text("battery: 384\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.yaml: a chain map is a mapping"):
        read_chain_map(bad)
