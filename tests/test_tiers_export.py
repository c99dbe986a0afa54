"""A tier evaluation written as Parquet, Excel and JSON keeps its words and its lists."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
from openpyxl import load_workbook
from tier_helpers import STRONG, WEAK, facts

from smecluster.reports.tier_export import write_json, write_parquet, write_xlsx
from smecluster.services.tiers import evaluate_facts


def _evaluation():
    return evaluate_facts(facts(STRONG, {**WEAK, "designated_srdi_sme": True}), 2025, date(2026, 6, 30))


def test_parquet_has_words_and_unverified_flags(tmp_path):
    """Statuses are words, each tier names its UNVERIFIED criteria on every row."""
    frame = pl.read_parquet(write_parquet(_evaluation(), tmp_path / "e.parquet"))
    assert frame["innovative_sme__outcome"].to_list() == ["qualifies", "does_not_qualify"]
    assert "S6-2" in frame["srdi_sme__unverified"][0]


def test_xlsx_has_a_sheet_per_list(tmp_path):
    """The workbook holds the summary, the three lists, the firms and the UNVERIFIED notes."""
    book = load_workbook(write_xlsx(_evaluation(), tmp_path / "e.xlsx"), read_only=True)
    assert book.sheetnames == ["summary", "eligible_not_designated", "designated_not_eligible",
                               "one_short_of_next", "firms", "unverified"]
    due = list(book["designated_not_eligible"].iter_rows(values_only=True))
    assert len(due) == 2 and due[1][0] == "TEST00000000000001"


def test_json_names_packs_in_force(tmp_path):
    """The JSON export names the pack of each tier in force on the evaluation date."""
    data = json.loads(write_json(_evaluation(), tmp_path / "e.json"))
    assert data["packs"]["srdi_sme"]["id"] == "srdi-sme-2026"
