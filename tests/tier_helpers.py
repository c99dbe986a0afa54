"""Helpers for tier tests: fact rows built from a few fields, and one firm's evaluated row."""

from __future__ import annotations

from datetime import date

import polars as pl

from smecluster.analytics.enterprise_facts import FACT_SCHEMA, designation_columns
from smecluster.analytics.tier_query import OUTCOME_LABELS, STATUS_LABELS
from smecluster.services.tiers import evaluate_facts

SCHEMA = {**FACT_SCHEMA, **{c: pl.Boolean for c in designation_columns()}}

# A firm that meets every rule of every 2022 tier pack (with some room), used as a base.
STRONG = {
    "revenue": 20000.0, "revenue_prev": 18000.0, "rd_spending": 1400.0, "rd_spending_prev": 1200.0,
    "employees": 300, "rd_staff": 90, "total_assets": 20000.0, "total_liabilities": 8000.0,
    "main_revenue": 19000.0, "main_revenue_prev": 16000.0, "main_revenue_prev2": 14000.0,
    "net_profit": 2400.0, "niche_years": 12.0, "ip_class1_high_value": 1, "ip_class1_own": 3,
    "ip_class1": 5, "ip_class2": 4, "ip_class1_applied": 3, "digital_level": 3, "quality_award": True,
    "iso9001": True, "own_brand": True, "drafted_standard": True, "core_business_is": True,
    "foreign_certification": True, "market_share": 0.15, "global_rank": 2, "equity_2y": 0.0,
    "equity_3y": 0.0, "national_award_rank_3y": 0, "provincial_award_rank_3y": 0,
    "maker_china_rank_3y": 0, "rd_institution_level": 3, "strategic_emerging": True,
    "product_field_level": 2, "key_field_product": True, "tech_demo": False, "new_product": False,
    "high_tech": False,
}
# A firm that meets nothing by score and holds no credential (direct routes all fail).
WEAK = {
    **STRONG, "rd_spending": 10.0, "rd_spending_prev": 10.0, "main_revenue": 9000.0, "main_revenue_prev": 10000.0,
    "main_revenue_prev2": 11000.0, "total_liabilities": 19000.0, "ip_class1_high_value": 0, "ip_class1_own": 0,
    "ip_class1": 0, "ip_class2": 0, "ip_class1_applied": 0, "strategic_emerging": False, "rd_institution_level": 0,
    "niche_years": 1.0, "digital_level": 1, "quality_award": False, "iso9001": False, "own_brand": False,
    "drafted_standard": False, "net_profit": 0.0, "market_share": 0.01, "global_rank": 0, "product_field_level": 0,
    "key_field_product": False, "core_business_is": False, "foreign_certification": False, "rd_staff": 3,
}


def facts(*rows: dict) -> pl.DataFrame:
    """A fact table with one row per dict; unspecified fields are NULL (not reported)."""
    full = []
    for i, r in enumerate(rows):
        base = {c: None for c in SCHEMA}
        base.update({c: False for c in designation_columns()})
        base.update(uscc=f"TEST{i:014d}", name=f"测试企业{i}", county_code="320102", industry_code="3411")
        base.update(r)
        full.append(base)
    return pl.DataFrame(full, schema=SCHEMA)


def evaluate_one(row: dict, on: date = date(2025, 6, 30), tier: str | None = None) -> dict:
    """One firm's evaluated row, codes turned into words (statuses, outcomes) for assertions."""
    ev = evaluate_facts(facts(row), 2024, on, tier)
    out = ev.frame().row(0, named=True)
    for p in ev.tiers:
        for col in [*p.status.values(), p.col("required"), p.col("direct"), p.col("path")]:
            out[col] = STATUS_LABELS[out[col]]
        out[p.col("outcome")] = OUTCOME_LABELS[out[p.col("outcome")]]
    out["_plans"] = {p.tier: p for p in ev.tiers}
    return out
