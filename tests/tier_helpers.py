"""Helpers for tier tests: fact rows built from a few fields, and one firm's evaluated row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import yaml

from smecluster.analytics.enterprise_facts import FACT_SCHEMA, designation_columns
from smecluster.analytics.tier_query import OUTCOME_LABELS, STATUS_LABELS
from smecluster.services.tiers import evaluate_facts

SCHEMA = {**FACT_SCHEMA, **{c: pl.Boolean for c in designation_columns()}}

BASES = yaml.safe_load((Path(__file__).with_name("scenarios") / "tiers" / "bases.yaml").read_text(encoding="utf-8"))
STRONG: dict = BASES["strong"]  # meets every rule of every 2022 tier pack
WEAK: dict = {**STRONG, **BASES["weak"]}  # no points to speak of, no direct route


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
