"""Band edges written out by hand from the policy text (POLICY.md 3a, 3b, 3d), not read from the packs.

test_tiers_bands.py checks every edge of every pack against the pack's own bands; a wrong edge typed
into a pack would pass there. Here each row is a raw registry figure and the points (or status) the
text gives it, so a pack that moves an edge, flips an inclusive end or swaps points fails.
Where the 2022 text's bands overlap (e.g. "55%-75% 5分" and "75%以上 0分" both hold 75%), the
documented reading is that the boundary goes to the better band (POLICY.md 3d).
"""

from __future__ import annotations

from datetime import date

import pytest
from tier_helpers import evaluate_one

ON_2022 = date(2025, 6, 30)  # the 2022 packs are in force
ON_2026 = date(2026, 6, 30)  # the 2026 Measures are in force (from 2026-04-01)

# (tier, criterion, raw fields, points) — 3a innovative SME 2022
INNOVATIVE_2022 = [
    # R&D spending / revenue (20): >=5% 20; 3-5% 15; 2-3% 10; 1-2% 5; <1% 0
    ("I-S2", {"revenue": 1000.0, "rd_spending": 50.0}, 20),
    ("I-S2", {"revenue": 1000.0, "rd_spending": 49.0}, 15),
    ("I-S2", {"revenue": 1000.0, "rd_spending": 30.0}, 15),
    ("I-S2", {"revenue": 1000.0, "rd_spending": 29.0}, 10),
    ("I-S2", {"revenue": 1000.0, "rd_spending": 20.0}, 10),
    ("I-S2", {"revenue": 1000.0, "rd_spending": 19.0}, 5),
    ("I-S2", {"revenue": 1000.0, "rd_spending": 10.0}, 5),
    ("I-S2", {"revenue": 1000.0, "rd_spending": 9.0}, 0),
    # main-business revenue growth (20): >=15% 20; 10-15% 15; 5-10% 10; 0-5% 5; <0 0
    ("I-S3", {"main_revenue_prev": 1000.0, "main_revenue": 1150.0}, 20),
    ("I-S3", {"main_revenue_prev": 1000.0, "main_revenue": 1149.0}, 15),
    ("I-S3", {"main_revenue_prev": 1000.0, "main_revenue": 1100.0}, 15),
    ("I-S3", {"main_revenue_prev": 1000.0, "main_revenue": 1099.0}, 10),
    ("I-S3", {"main_revenue_prev": 1000.0, "main_revenue": 1050.0}, 10),
    ("I-S3", {"main_revenue_prev": 1000.0, "main_revenue": 1049.0}, 5),
    ("I-S3", {"main_revenue_prev": 1000.0, "main_revenue": 1000.0}, 5),
    ("I-S3", {"main_revenue_prev": 1000.0, "main_revenue": 999.0}, 0),
    # debt-to-asset ratio (10): <=55% 10; 55-75% 5; >75% 0 (75% is in both: the better band)
    ("I-S4", {"total_assets": 1000.0, "total_liabilities": 550.0}, 10),
    ("I-S4", {"total_assets": 1000.0, "total_liabilities": 551.0}, 5),
    ("I-S4", {"total_assets": 1000.0, "total_liabilities": 750.0}, 5),
    ("I-S4", {"total_assets": 1000.0, "total_liabilities": 751.0}, 0),
    # strategic emerging industries (10): yes 10; other 5
    ("I-S5", {"strategic_emerging": True}, 10),
    ("I-S5", {"strategic_emerging": False}, 5),
    # main-business share of revenue (20): >=70% 20; 60-70% 15; 55-60% 10; 50-55% 5; <50% 0
    ("I-S6", {"revenue": 1000.0, "main_revenue": 700.0}, 20),
    ("I-S6", {"revenue": 1000.0, "main_revenue": 699.0}, 15),
    ("I-S6", {"revenue": 1000.0, "main_revenue": 600.0}, 15),
    ("I-S6", {"revenue": 1000.0, "main_revenue": 599.0}, 10),
    ("I-S6", {"revenue": 1000.0, "main_revenue": 550.0}, 10),
    ("I-S6", {"revenue": 1000.0, "main_revenue": 549.0}, 5),
    ("I-S6", {"revenue": 1000.0, "main_revenue": 500.0}, 5),
    ("I-S6", {"revenue": 1000.0, "main_revenue": 499.0}, 0),
    # main-product IP (20): Class I high-value 20; self-developed Class I 15; Class I 10; Class II 5; none 0
    ("I-S1", {"ip_class1_high_value": 1, "ip_class1_own": 1, "ip_class1": 1, "ip_class2": 0}, 20),
    ("I-S1", {"ip_class1_high_value": 0, "ip_class1_own": 1, "ip_class1": 1, "ip_class2": 0}, 15),
    ("I-S1", {"ip_class1_high_value": 0, "ip_class1_own": 0, "ip_class1": 1, "ip_class2": 0}, 10),
    ("I-S1", {"ip_class1_high_value": 0, "ip_class1_own": 0, "ip_class1": 0, "ip_class2": 3}, 5),
    ("I-S1", {"ip_class1_high_value": 0, "ip_class1_own": 0, "ip_class1": 0, "ip_class2": 0}, 0),
]

# 3b SRDI SME 2022
SRDI_2022 = [
    # main-business share (5): >=80% 5; 70-80% 3; 60-70% 1; <60% 0
    ("S-S1", {"revenue": 1000.0, "main_revenue": 800.0}, 5),
    ("S-S1", {"revenue": 1000.0, "main_revenue": 799.0}, 3),
    ("S-S1", {"revenue": 1000.0, "main_revenue": 700.0}, 3),
    ("S-S1", {"revenue": 1000.0, "main_revenue": 699.0}, 1),
    ("S-S1", {"revenue": 1000.0, "main_revenue": 600.0}, 1),
    ("S-S1", {"revenue": 1000.0, "main_revenue": 599.0}, 0),
    # 2-year average main-business growth (10): >=10% 10; 8-10% 8; 6-8% 6; 4-6% 4; 0-4% 2; <0 0
    ("S-S2", {"main_revenue_prev2": 10000.0, "main_revenue": 12100.0}, 10),  # 1.1^2: exactly 10%
    ("S-S2", {"main_revenue_prev2": 10000.0, "main_revenue": 12000.0}, 8),  # 9.54%
    ("S-S2", {"main_revenue_prev2": 10000.0, "main_revenue": 11664.0}, 8),  # 1.08^2: exactly 8%
    ("S-S2", {"main_revenue_prev2": 10000.0, "main_revenue": 10000.0}, 2),  # 0% is in 0-4%
    ("S-S2", {"main_revenue_prev2": 10000.0, "main_revenue": 9990.0}, 0),
    # years in the niche (5): 1 point per full 2 years, at most 5
    ("S-S3", {"niche_years": 10.0}, 5),
    ("S-S3", {"niche_years": 9.9}, 4),
    ("S-S3", {"niche_years": 4.0}, 2),
    ("S-S3", {"niche_years": 2.0}, 1),
    ("S-S3", {"niche_years": 1.9}, 0),
    # net profit margin (10): >=10% 10; 8-10% 8; 6-8% 6; 4-6% 4; 2-4% 2; <2% 0
    ("S-S7", {"revenue": 1000.0, "net_profit": 100.0}, 10),
    ("S-S7", {"revenue": 1000.0, "net_profit": 99.0}, 8),
    ("S-S7", {"revenue": 1000.0, "net_profit": 60.0}, 6),
    ("S-S7", {"revenue": 1000.0, "net_profit": 20.0}, 2),
    ("S-S7", {"revenue": 1000.0, "net_profit": 19.0}, 0),
    # debt ratio (5): <=50% 5; 50-60% 3; 60-70% 1; >70% 0 (shared edges: the better band)
    ("S-S8", {"total_assets": 1000.0, "total_liabilities": 500.0}, 5),
    ("S-S8", {"total_assets": 1000.0, "total_liabilities": 501.0}, 3),
    ("S-S8", {"total_assets": 1000.0, "total_liabilities": 600.0}, 3),
    ("S-S8", {"total_assets": 1000.0, "total_liabilities": 601.0}, 1),
    ("S-S8", {"total_assets": 1000.0, "total_liabilities": 700.0}, 1),
    ("S-S8", {"total_assets": 1000.0, "total_liabilities": 701.0}, 0),
    # main-product IP (10): Class I high-value 10; self-developed Class I 8; Class I 6; Class II 2; none 0
    ("S-S10", {"ip_class1_high_value": 1, "ip_class1_own": 1, "ip_class1": 1, "ip_class2": 0}, 10),
    ("S-S10", {"ip_class1_high_value": 0, "ip_class1_own": 1, "ip_class1": 1, "ip_class2": 0}, 8),
    ("S-S10", {"ip_class1_high_value": 0, "ip_class1_own": 0, "ip_class1": 1, "ip_class2": 0}, 6),
    ("S-S10", {"ip_class1_high_value": 0, "ip_class1_own": 0, "ip_class1": 0, "ip_class2": 1}, 2),
]

# 3d SRDI SME 2026: thresholds of the baseline conditions (status, not points)
SRDI_2026 = [
    ("S6-2", {"niche_years": 3.0}, "pass"),  # at least 3 years in the niche
    ("S6-2", {"niche_years": 2.9}, "fail"),
    ("S6-4", {"revenue": 1000.0, "main_revenue": 800.0}, "pass"),  # main-business share at least 80%
    ("S6-4", {"revenue": 1000.0, "main_revenue": 799.0}, "fail"),
    ("S6-5", {"total_assets": 1000.0, "total_liabilities": 800.0}, "pass"),  # debt ratio at most 80%
    ("S6-5", {"total_assets": 1000.0, "total_liabilities": 801.0}, "fail"),
    ("S6-3a", {"revenue": 1500.0}, "pass"),  # revenue at least CNY 15 million (1500 万元)
    ("S6-3a", {"revenue": 1499.0}, "fail"),
]


def _ids(rows: list[tuple]) -> list[str]:
    return [f"{c}-{'-'.join(f'{k}={v}' for k, v in raw.items())}" for c, raw, _ in rows]


@pytest.mark.parametrize(("criterion", "raw", "points"), INNOVATIVE_2022, ids=_ids(INNOVATIVE_2022))
def test_innovative_sme_2022_points(criterion, raw, points):
    """Innovative SME 2022 (POLICY.md 3a): the figure earns the points the text gives."""
    out = evaluate_one(raw, ON_2022, tier="innovative_sme")
    assert out[f"innovative_sme__{criterion}__pts"] == points


@pytest.mark.parametrize(("criterion", "raw", "points"), SRDI_2022, ids=_ids(SRDI_2022))
def test_srdi_sme_2022_points(criterion, raw, points):
    """SRDI SME 2022 (POLICY.md 3b): the figure earns the points the text gives."""
    out = evaluate_one(raw, ON_2022, tier="srdi_sme")
    assert out[f"srdi_sme__{criterion}__pts"] == points


@pytest.mark.parametrize(("criterion", "raw", "status"), SRDI_2026, ids=_ids(SRDI_2026))
def test_srdi_sme_2026_thresholds(criterion, raw, status):
    """SRDI SME 2026 (POLICY.md 3d): at the threshold the condition is met, one step beyond it is not."""
    out = evaluate_one(raw, ON_2026, tier="srdi_sme")
    assert out[f"srdi_sme__{criterion}"] == status


def test_a_single_open_band_gives_its_points_to_every_reported_value():
    """One band open at both ends (a province paying a flat amount for any figure): every reported value earns
    its points, a missing one earns NULL (not assessed), as DuckDB computes the compiled CASE."""
    import duckdb

    from smecluster.analytics.tier_sql import band_points_sql
    from smecluster.policy.compile import indicator_column
    from smecluster.policy.pack import Band, Criterion

    c = Criterion(id="F", title="定额", indicator="rd_intensity", role="score", bands=[Band(points=5)], max_points=5)
    col = indicator_column(c.indicator, c.params)
    sql = f'SELECT {band_points_sql(c)} AS p FROM (VALUES (NULL), (-1.0), (0.0), (3.5)) AS t("{col}")'
    assert [r[0] for r in duckdb.sql(sql).fetchall()] == [None, 5, 5, 5]
