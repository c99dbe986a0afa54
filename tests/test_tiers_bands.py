"""Every band edge of every scored indicator of every tier pack, computed from raw registry fields."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import pytest
from tier_helpers import evaluate_one, facts

from smecluster.analytics.catalogue import indicator
from smecluster.policy.compile import decimals_for
from smecluster.policy.pack import Band, Criterion, packs_of_kind
from smecluster.services.tiers import evaluate_facts


def _ratio(num: str, den: str, base: float = 1000.0):
    return lambda v: {den: base, num: base * v}


# How to set raw fact columns so that an indicator takes a value (through the same arithmetic as data).
SETTERS = {
    "rd_intensity": _ratio("rd_spending", "revenue"),
    "main_share": _ratio("main_revenue", "revenue"),
    "net_margin": _ratio("net_profit", "revenue"),
    "debt_ratio": _ratio("total_liabilities", "total_assets", 100.0),
    "rd_staff_share": lambda v: {"employees": 10000, "rd_staff": round(10000 * v)},
    "main_growth": lambda v: {"main_revenue_prev": 100.0, "main_revenue": 100.0 * (1 + v)},
    "main_growth_avg2": lambda v: {"main_revenue_prev2": 100.0, "main_revenue": 100.0 * (1 + v) ** 2},
    "rd_spending": lambda v: {"rd_spending": v},
    "niche_years": lambda v: {"niche_years": v},
    "digital_level": lambda v: {"digital_level": int(v)},
    "rd_institution_level": lambda v: {"rd_institution_level": int(v)},
    "product_field_level": lambda v: {"product_field_level": int(v)},
    "strategic_emerging": lambda v: {"strategic_emerging": bool(v)},
    "quality_items": lambda v: {k: i < v for i, k in enumerate(("quality_award", "iso9001", "own_brand",
                                                                  "drafted_standard"))},
    "ip_level": lambda v: {"ip_class1_high_value": int(v >= 4), "ip_class1_own": int(v >= 3),
                           "ip_class1": int(v >= 2), "ip_class2": int(v >= 1)},
}
ON = {"2022": date(2025, 6, 30), "2026": date(2026, 6, 30)}


def _band_points(bands: list[Band], value, decimals: int | None) -> float:
    """The reference: the text's bands applied to the value rounded half-up at the stated precision."""
    if decimals is not None and not isinstance(value, bool):
        value = float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))
    for b in bands:
        ok = (b.equals is None or value == b.equals) and (
            b.min is None or (value >= b.min if b.min_inclusive else value > b.min)) and (
            b.max is None or (value <= b.max if b.max_inclusive else value < b.max))
        if ok:
            return b.points
    return 0.0


def _raw(top: Criterion, band_set: Criterion, value) -> dict:
    """Raw fields giving `value` to the band set's indicator (the other best-of option earns 0)."""
    if top.best_of and band_set.indicator == "rd_intensity":
        return _ratio("rd_spending", "revenue", 10.0)(value)  # spending stays under 100: 0 points
    if top.best_of and band_set.indicator == "rd_spending":
        return {"revenue": 1e9, "rd_spending": value}  # intensity near 0: 0 points
    return SETTERS[band_set.indicator](value)


def _cases() -> list[tuple]:
    cases = []
    for pack in packs_of_kind("enterprise_tier"):
        for top in pack.criteria:
            if top.role != "score" or top.judgement:
                continue
            for c in top.best_of or [top]:
                d = decimals_for(c) if indicator(c.indicator).unit not in ("code", "bool", "rank") else None
                step = 10.0 ** -(d if d is not None else 0)
                values = set()
                for b in c.bands:
                    if b.equals is not None:
                        values.add(b.equals)
                    for edge in (b.min, b.max):
                        if edge is not None:
                            values |= {edge, round(edge - step, 6), round(edge + step, 6)}
                for v in sorted(values, key=float):
                    if c.indicator == "quality_items" and not 0 <= v <= 4:
                        continue
                    cases.append((pack, top, c, v, d))
    return cases


CASES = _cases()


@cache
def _evaluated(pack_id: str) -> list[dict]:
    """Every case of one pack evaluated in one query (one row per case)."""
    mine = [c for c in CASES if c[0].id == pack_id]
    pack = mine[0][0]
    rows = [_raw(top, band_set, v) for _, top, band_set, v, _ in mine]
    ev = evaluate_facts(facts(*rows), 2024, pack.effective_from, pack.tier)
    assert ev.tiers[0].pack.id == pack_id
    return ev.frame().to_dicts()


@pytest.mark.parametrize(("pack", "top", "band_set", "value", "decimals"), CASES,
                         ids=[f"{c[0].id}-{c[2].id}-{c[3]}" for c in CASES])
def test_band_edge(pack, top: Criterion, band_set: Criterion, value, decimals):
    """At and beside each band edge the indicator earns the points of the band the text puts it in."""
    index = [c for c in CASES if c[0].id == pack.id].index((pack, top, band_set, value, decimals))
    row = _evaluated(pack.id)[index]
    expected = _band_points(band_set.bands, value, decimals)
    assert row[f"{pack.tier}__{top.id}__pts"] == pytest.approx(expected)


def test_growth_of_exactly_fifteen_percent_earns_the_top_band():
    """115 over 100 is 0.1499999... in floating point; at the text's precision it is 15% and earns 20."""
    out = evaluate_one({"main_revenue": 115.0, "main_revenue_prev": 100.0}, tier="innovative_sme")
    assert out["innovative_sme__I-S3__pts"] == 20


def test_missing_indicator_earns_no_points_but_unknown():
    """A scored indicator without data has NULL points (unknown), not zero."""
    out = evaluate_one({"revenue": 1000.0}, tier="innovative_sme")
    assert out["innovative_sme__I-S2__pts"] is None
