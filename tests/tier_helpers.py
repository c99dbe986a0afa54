"""Helpers for tier tests: the base firms of the scenarios, fact rows, one firm's evaluated row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from smecluster.policy.tier_scenarios import evaluate_row, facts_frame, load_bases

SCENARIOS = Path(__file__).with_name("scenarios") / "tiers"
BASES = load_bases(SCENARIOS)
STRONG: dict = BASES["strong"]  # meets every rule of every 2022 tier pack
WEAK: dict = BASES["weak"]  # no points to speak of, no direct route


def facts(*rows: dict) -> pl.DataFrame:
    """A fact table with one row per dict; unspecified fields are NULL (not reported)."""
    return facts_frame(*rows)


def evaluate_one(row: dict, on: date = date(2025, 6, 30), tier: str | None = None) -> dict:
    """One firm's evaluated row, codes turned into words (statuses, outcomes) for assertions."""
    return evaluate_row(row, on, tier)
