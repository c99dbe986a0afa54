"""Shared band endpoints ("3%-5%" next to "5%以上", "55%-75%" next to "75%以上"): the band that takes
the endpoint is stated in each pack (`endpoint`, decision 0901) and both sides of every endpoint are
tested here against tables written by hand from the policy text (POLICY.md 3a, 3b), not read from the
pack under test.
"""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from tier_helpers import facts

from smecluster.policy.pack import PACK_DIR, PackError, load_pack_file, packs_of_kind
from smecluster.services.tiers import evaluate_facts

ON_2022 = date(2025, 6, 30)


def _ratio(num: str, den: str, base: float = 10000.0):
    return lambda v: {den: base, num: round(base * v, 6)}


# indicator -> raw fields giving it a value (through the same arithmetic as registry data)
SET = {
    "rd_intensity": _ratio("rd_spending", "revenue", 1000.0),  # spending stays under 100: S-S11a earns 0
    "main_share": _ratio("main_revenue", "revenue"),
    "net_margin": _ratio("net_profit", "revenue"),
    "debt_ratio": _ratio("total_liabilities", "total_assets"),
    "rd_staff_share": lambda v: {"employees": 10000, "rd_staff": round(10000 * v)},
    "main_growth": lambda v: {"main_revenue_prev": 10000.0, "main_revenue": round(10000.0 * (1 + v), 6)},
    "main_growth_avg2": lambda v: {"main_revenue_prev2": 10000.0, "main_revenue": round(10000.0 * (1 + v) ** 2, 6)},
    "niche_years": lambda v: {"niche_years": v},
    "rd_spending": lambda v: {"rd_spending": v, "revenue": 1e9},  # intensity near 0: S-S11b earns 0
}

# (tier, points column's criterion, indicator, value, points) from the printed bands; at each shared
# endpoint the better band takes it (以上 and 以下 include the number): the value just beside it
# earns the neighbouring band.
TABLE = [
    # 3a innovative SME: R&D intensity A 5%以上 20, B 3%-5% 15, C 2%-3% 10, D 1%-2% 5, E 1%以下 0
    ("innovative_sme", "I-S2", "rd_intensity", 0.05, 20), ("innovative_sme", "I-S2", "rd_intensity", 0.0499, 15),
    ("innovative_sme", "I-S2", "rd_intensity", 0.03, 15), ("innovative_sme", "I-S2", "rd_intensity", 0.0299, 10),
    ("innovative_sme", "I-S2", "rd_intensity", 0.02, 10), ("innovative_sme", "I-S2", "rd_intensity", 0.0199, 5),
    ("innovative_sme", "I-S2", "rd_intensity", 0.01, 5), ("innovative_sme", "I-S2", "rd_intensity", 0.0099, 0),
    # growth A 15%以上 20, B 10%-15% 15, C 5%-10% 10, D 0%-5% 5, E 0%以下 0
    ("innovative_sme", "I-S3", "main_growth", 0.15, 20), ("innovative_sme", "I-S3", "main_growth", 0.1499, 15),
    ("innovative_sme", "I-S3", "main_growth", 0.10, 15), ("innovative_sme", "I-S3", "main_growth", 0.0999, 10),
    ("innovative_sme", "I-S3", "main_growth", 0.05, 10), ("innovative_sme", "I-S3", "main_growth", 0.0499, 5),
    ("innovative_sme", "I-S3", "main_growth", 0.0, 5), ("innovative_sme", "I-S3", "main_growth", -0.0001, 0),
    # debt ratio A 55%以下 10, B 55%-75% 5, C 75%以上 0: 55% and 75% go to the better band
    ("innovative_sme", "I-S4", "debt_ratio", 0.55, 10), ("innovative_sme", "I-S4", "debt_ratio", 0.5501, 5),
    ("innovative_sme", "I-S4", "debt_ratio", 0.75, 5), ("innovative_sme", "I-S4", "debt_ratio", 0.7501, 0),
    # main share A 70%以上 20, B 60%-70% 15, C 55%-60% 10, D 50%-55% 5, E 50%以下 0
    ("innovative_sme", "I-S6", "main_share", 0.70, 20), ("innovative_sme", "I-S6", "main_share", 0.6999, 15),
    ("innovative_sme", "I-S6", "main_share", 0.60, 15), ("innovative_sme", "I-S6", "main_share", 0.5999, 10),
    ("innovative_sme", "I-S6", "main_share", 0.55, 10), ("innovative_sme", "I-S6", "main_share", 0.5499, 5),
    ("innovative_sme", "I-S6", "main_share", 0.50, 5), ("innovative_sme", "I-S6", "main_share", 0.4999, 0),
    # 3b SRDI SME: main share A 80%以上 5, B 70%-80% 3, C 60%-70% 1, D 60%以下 0
    ("srdi_sme", "S-S1", "main_share", 0.80, 5), ("srdi_sme", "S-S1", "main_share", 0.7999, 3),
    ("srdi_sme", "S-S1", "main_share", 0.70, 3), ("srdi_sme", "S-S1", "main_share", 0.6999, 1),
    ("srdi_sme", "S-S1", "main_share", 0.60, 1), ("srdi_sme", "S-S1", "main_share", 0.5999, 0),
    # 2-year growth A 10%以上 10, B 8%-10% 8, C 6%-8% 6, D 4%-6% 4, E 0%-4% 2, F 0%以下 0
    ("srdi_sme", "S-S2", "main_growth_avg2", 0.10, 10), ("srdi_sme", "S-S2", "main_growth_avg2", 0.0999, 8),
    ("srdi_sme", "S-S2", "main_growth_avg2", 0.08, 8), ("srdi_sme", "S-S2", "main_growth_avg2", 0.0799, 6),
    ("srdi_sme", "S-S2", "main_growth_avg2", 0.06, 6), ("srdi_sme", "S-S2", "main_growth_avg2", 0.0599, 4),
    ("srdi_sme", "S-S2", "main_growth_avg2", 0.04, 4), ("srdi_sme", "S-S2", "main_growth_avg2", 0.0399, 2),
    ("srdi_sme", "S-S2", "main_growth_avg2", 0.0, 2), ("srdi_sme", "S-S2", "main_growth_avg2", -0.0001, 0),
    # years in the niche: 1 point per full (满) 2 years, at most 5
    ("srdi_sme", "S-S3", "niche_years", 10.0, 5), ("srdi_sme", "S-S3", "niche_years", 9.99, 4),
    ("srdi_sme", "S-S3", "niche_years", 4.0, 2), ("srdi_sme", "S-S3", "niche_years", 3.99, 1),
    ("srdi_sme", "S-S3", "niche_years", 2.0, 1), ("srdi_sme", "S-S3", "niche_years", 1.99, 0),
    # net margin A 10%以上 10, B 8%-10% 8, ... E 2%-4% 2, F 2%以下 0
    ("srdi_sme", "S-S7", "net_margin", 0.10, 10), ("srdi_sme", "S-S7", "net_margin", 0.0999, 8),
    ("srdi_sme", "S-S7", "net_margin", 0.04, 4), ("srdi_sme", "S-S7", "net_margin", 0.0399, 2),
    ("srdi_sme", "S-S7", "net_margin", 0.02, 2), ("srdi_sme", "S-S7", "net_margin", 0.0199, 0),
    # debt ratio A 50%以下 5, B 50%-60% 3, C 60%-70% 1, D 70%以上 0: endpoints to the better band
    ("srdi_sme", "S-S8", "debt_ratio", 0.50, 5), ("srdi_sme", "S-S8", "debt_ratio", 0.5001, 3),
    ("srdi_sme", "S-S8", "debt_ratio", 0.60, 3), ("srdi_sme", "S-S8", "debt_ratio", 0.6001, 1),
    ("srdi_sme", "S-S8", "debt_ratio", 0.70, 1), ("srdi_sme", "S-S8", "debt_ratio", 0.7001, 0),
    # R&D A 500万元以上 10, B 400-500万元 8, ..., E 100-200万元 2; or 10%以上 10, ..., 3%-4% 2
    ("srdi_sme", "S-S11a", "rd_spending", 500.0, 10), ("srdi_sme", "S-S11a", "rd_spending", 499.99, 8),
    ("srdi_sme", "S-S11a", "rd_spending", 100.0, 2), ("srdi_sme", "S-S11a", "rd_spending", 99.99, 0),
    ("srdi_sme", "S-S11b", "rd_intensity", 0.10, 10), ("srdi_sme", "S-S11b", "rd_intensity", 0.0999, 8),
    ("srdi_sme", "S-S11b", "rd_intensity", 0.03, 2), ("srdi_sme", "S-S11b", "rd_intensity", 0.0299, 0),
    # R&D staff share A 20%以上 5, B 10%-20% 3, C 5%-10% 1, D 5%以下 0
    ("srdi_sme", "S-S12", "rd_staff_share", 0.20, 5), ("srdi_sme", "S-S12", "rd_staff_share", 0.1999, 3),
    ("srdi_sme", "S-S12", "rd_staff_share", 0.10, 3), ("srdi_sme", "S-S12", "rd_staff_share", 0.0999, 1),
    ("srdi_sme", "S-S12", "rd_staff_share", 0.05, 1), ("srdi_sme", "S-S12", "rd_staff_share", 0.0499, 0),
]


@pytest.mark.parametrize(("tier", "cid", "indicator", "value", "points"), TABLE,
                         ids=[f"{t[1]}-{t[3]}" for t in TABLE])
def test_both_sides_of_each_shared_endpoint(tier, cid, indicator, value, points):
    """The value at a shared endpoint earns the better band; just beside it, the neighbouring band."""
    ev = evaluate_facts(facts(SET[indicator](value)), 2024, ON_2022, tier)
    assert ev.tiers[0].pack.id.endswith("-2022")
    column = cid[:-1] if cid.startswith("S-S11") else cid  # the best of the two R&D options
    assert ev.frame().row(0, named=True)[f"{tier}__{column}__pts"] == points


def test_every_banded_criterion_with_a_shared_endpoint_states_its_reading():
    """Each criterion whose bands meet at a number names the band that takes it (as loaded)."""
    for pack in packs_of_kind("enterprise_tier"):
        for c in pack.all_criteria():
            bands = [b for b in c.bands or [] if b.equals is None]
            if any(a.max is not None and a.max == b.min for a in bands for b in bands):
                assert c.endpoint == "better" and c.endpoint_note, (pack.id, c.id)


def _pack_with_bands(tmp_path, bands: list[dict], endpoint: str | None):
    raw = yaml.safe_load((PACK_DIR / "innovative-sme-2022.yaml").read_text(encoding="utf-8"))
    for c in raw["criteria"]:
        if c["id"] == "I-S4":
            c["bands"] = bands
            c.pop("endpoint", None)
            if endpoint:
                c["endpoint"] = endpoint
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_a_shared_endpoint_without_a_stated_reading_is_refused(tmp_path):
    """Bands meeting at 75% with no `endpoint` do not load."""
    bands = [{"max": 0.75, "max_inclusive": True, "points": 5}, {"min": 0.75, "min_inclusive": False, "points": 0}]
    with pytest.raises(PackError, match="say which band takes it"):
        load_pack_file(_pack_with_bands(tmp_path, bands, None))


def test_bands_contradicting_the_stated_reading_are_refused(tmp_path):
    """`endpoint: better` with 75% written into the worse band does not load."""
    bands = [{"max": 0.75, "points": 5}, {"min": 0.75, "points": 0}]
    with pytest.raises(PackError, match="goes to the worse band"):
        load_pack_file(_pack_with_bands(tmp_path, bands, "better"))


def test_bands_giving_the_endpoint_to_both_or_neither_are_refused(tmp_path):
    """Both bands inclusive at 75% (or both exclusive) do not load."""
    bands = [{"max": 0.75, "max_inclusive": True, "points": 5}, {"min": 0.75, "points": 0}]
    with pytest.raises(PackError, match="exactly one"):
        load_pack_file(_pack_with_bands(tmp_path, bands, "better"))


def test_bands_giving_the_endpoint_to_the_better_band_against_worse_are_refused(tmp_path):
    """`endpoint: worse` with 75% written into the band with more points does not load, and says which."""
    bands = [{"max": 0.75, "points": 0}, {"min": 0.75, "points": 5}]
    with pytest.raises(PackError, match="I-S4: endpoint 0.75 goes to the better band, but the pack says worse"):
        load_pack_file(_pack_with_bands(tmp_path, bands, "worse"))
