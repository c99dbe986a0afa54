"""The 2026 Measures: pack by kind of evaluation and date, the reason shown, the tier's name by pack
date, reviewer judgements never a pass by default, and one designation-validity rule everywhere."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest
from tier_helpers import BASES, facts

from smecluster.analytics.cluster_indicators import held
from smecluster.analytics.enterprise_facts import PROFILE_NOW, build_facts
from smecluster.policy.pack import PackError, load_pack
from smecluster.policy.tiers import tier_label, tier_pack
from smecluster.policy.validity import cluster_date, derived_end, held_sql
from smecluster.services.tiers import evaluate_facts, labelled, packs_applied, summary

HOLDER = BASES["holder"]


def test_little_giant_re_review_in_2026_uses_the_2022_standard():
    """New applications from 2026-04-01 take little-giant-2026; re-reviews still take 2022 (117号)."""
    assert tier_pack("little_giant", date(2026, 6, 30), "new").id == "little-giant-2026"
    review = tier_pack("little_giant", date(2026, 6, 30), "review")
    assert review.id == "little-giant-2022"
    assert "117号" in review.selection.reason_zh() and "re-review" in review.selection.reason_en()
    assert tier_pack("little_giant", date(2026, 3, 31), "new").id == "little-giant-2022"
    # each reason names the kind of evaluation it was chosen for, in both languages
    new = tier_pack("little_giant", date(2026, 6, 30), "new").selection
    assert new.reason_zh().startswith("新申报，评价日 2026-06-30") and new.reason_en().startswith("new application")
    assert review.selection.reason_zh().startswith("复核，评价日 2026-06-30")


def test_srdi_re_review_takes_either_of_the_last_two_scores():
    """The SRDI 2026 pack checks this year's score for new applications, either year's at re-review."""
    new = [c.id for c in tier_pack("srdi_sme", date(2026, 6, 30), "new").criteria]
    review = [c.id for c in tier_pack("srdi_sme", date(2026, 6, 30), "review").criteria]
    assert "S6-9" in new and "S6-9r" not in new
    assert "S6-9r" in review and "S6-9" not in review


def test_growth_is_not_checked_at_little_giant_re_review():
    """L6-5 (2-year revenue growth) is dropped for a re-review under the 2026 little giant pack."""
    pack = load_pack("little-giant-2026")
    assert "L6-5" in [c.id for c in pack.for_evaluation("new", date(2026, 6, 30)).criteria]
    served = pack.model_copy(update={"evaluations": {}})  # as if the pack served re-reviews
    assert "L6-5" not in [c.id for c in served.for_evaluation("review", date(2027, 6, 30)).criteria]
    with pytest.raises(PackError, match="does not serve review"):
        pack.for_evaluation("review", date(2026, 6, 30))


def test_every_result_states_the_pack_and_why():
    """Summary and labelled tables carry the pack applied and the reason (date rule and kind)."""
    ev = evaluate_facts(facts(HOLDER), 2025, date(2026, 6, 30), evaluation="review")
    s = summary(ev)
    row = s.filter(pl.col("tier") == "little_giant").row(0, named=True)
    assert row["pack"] == "little-giant-2022" and "re-review on 2026-06-30" in row["pack_reason"]
    lab = labelled(ev)
    assert lab["srdi_sme__pack"][0] == "srdi-sme-2026"
    assert "from 2026-04-01" in lab["srdi_sme__pack_reason"][0]
    assert {a["evaluation"] for a in packs_applied(ev)} == {"review"}


def test_first_tier_is_renamed_from_2026_04_01():
    """The first tier is 创新型中小企业 under the 2022 pack and 科技和创新型中小企业 from 2026-04-01."""
    assert tier_label(tier_pack("innovative_sme", date(2026, 3, 31))) == "创新型中小企业"
    assert tier_label(tier_pack("innovative_sme", date(2026, 4, 1))) == "科技和创新型中小企业"
    ev = evaluate_facts(facts(HOLDER), 2025, date(2026, 6, 30))
    assert summary(ev).filter(pl.col("tier") == "innovative_sme")["label"][0] == "科技和创新型中小企业"


def test_a_reviewer_judgement_is_never_a_pass_by_default():
    """Meeting every rule of the 2026 SRDI pack leaves the firm pending the reviewer's market judgement."""
    ev = evaluate_facts(facts(HOLDER), 2025, date(2026, 6, 30), "srdi_sme")
    assert ev.frame()["srdi_sme__outcome"][0] == 2  # warn: qualifies pending review, never 3 (pass)
    assert "S6-8" in ev.tiers[0].review
    lists = summary(ev).row(0, named=True)
    assert lists["qualifies"] == 1


def _designations(*rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={"kind": pl.Utf8, "year": pl.Int32, "valid_from": pl.Date,
                                            "valid_until": pl.Date}, orient="row")


def _counts(frame: pl.DataFrame, sql: str) -> list[bool]:
    con = duckdb.connect()
    con.register("d", frame.to_arrow())
    return [r[0] for r in con.sql(f"SELECT {sql} FROM d AS d").fetchall()]


def test_a_designation_counts_from_its_start_to_its_end_inclusive():
    """Start <= D <= end: one ending 2024-01-31 no longer counts on 2024-02-01 (the old year-only rule
    counted it for all of 2024), and one starting 2024-07-01 does not count on 2024-06-30."""
    frame = _designations(("srdi_sme", 2021, date(2021, 2, 1), date(2024, 1, 31)),
                          ("srdi_sme", 2024, date(2024, 7, 1), None))
    assert _counts(frame, held_sql(date(2024, 1, 31), "d")) == [True, False]
    assert _counts(frame, held_sql(date(2024, 2, 1), "d")) == [False, False]
    assert _counts(frame, held_sql(date(2024, 7, 1), "d")) == [False, True]


def test_a_missing_end_date_is_derived_from_the_tier_packs_validity():
    """No end date: start + the pack's validity years - 1 day (3 years for SRDI, 1 for a tech SME)."""
    assert derived_end("srdi_sme", date(2023, 5, 10)) == date(2026, 5, 9)
    assert derived_end("tech_sme", date(2025, 1, 1)) == date(2025, 12, 31)
    # granted on 29 February: the anniversary in a common year is 1 March, so the last day is 28 February
    assert derived_end("srdi_sme", date(2024, 2, 29)) == date(2027, 2, 28)
    assert derived_end("tech_sme", date(2024, 2, 29)) == date(2025, 2, 28)
    frame = _designations(("srdi_sme", 2023, date(2023, 5, 10), None), ("tech_sme", 2025, None, None))
    assert _counts(frame, held_sql(date(2026, 5, 9), "d")) == [True, False]
    assert _counts(frame, held_sql(date(2026, 5, 10), "d")) == [False, False]
    assert _counts(frame, held_sql(date(2025, 12, 31), "d")) == [True, True]


def test_clusters_count_designations_on_31_december_of_the_year():
    """Cluster indicators for data year Y use the same rule on D = 31 December Y."""
    assert cluster_date(2024) == date(2024, 12, 31)
    frame = _designations(("little_giant", 2021, date(2021, 3, 1), date(2024, 1, 31)),
                          ("little_giant", 2022, None, None))
    assert _counts(frame, held(2024)) == [False, True]
    assert _counts(frame, held(2025)) == [False, False]


def test_tier_facts_use_the_rule_for_a_tech_sme():
    """A tech SME designation of 2025 with no dates holds the first tier on 2025-12-31, not in 2026."""
    ent = pl.DataFrame({"uscc": ["A"], "name": ["a"], "county_code": ["320102"], "industry_code": ["3411"]})
    ey = pl.DataFrame({"uscc": ["A"], "year": [2025], "revenue": [100.0], "rd_spending": [1.0], "employees": [10],
                       "rd_staff": [1], "total_assets": [10.0], "total_liabilities": [1.0]})
    pr = pl.DataFrame({"uscc": ["A"], "year": [2025], "srdi_eval_score": [55.0]})
    des = pl.DataFrame({"uscc": ["A"], "kind": ["tech_sme"], "year": [2025], "valid_from": [None],
                        "valid_until": [None]}, schema_overrides={"valid_from": pl.Date, "valid_until": pl.Date})
    yearly = ("main_revenue", "equity_raised", "national_award_rank", "provincial_award_rank", "maker_china_rank")
    pr = pr.with_columns(*[pl.lit(None, dtype=pl.Float64).alias(c) for c in (*yearly, *PROFILE_NOW)
                           if c not in pr.columns])
    inside = pl.from_arrow(build_facts(ent, ey, pr, des, 2025, date(2025, 12, 31)))
    after = pl.from_arrow(build_facts(ent, ey, pr, des, 2025, date(2026, 1, 1)))
    assert inside["tech_sme"][0] is True and after["tech_sme"][0] is False
    assert inside["srdi_eval_score"][0] == 55.0


def test_a_window_naming_an_unknown_source_is_refused(tmp_path):
    """A pack's re-review window must cite one of the pack's sources."""
    from smecluster.policy.pack import PACK_DIR, load_pack_file

    text = (PACK_DIR / "little-giant-2022.yaml").read_text(encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("source: miit-2026-117\n", "source: nowhere\n", 1), encoding="utf-8")
    with pytest.raises(PackError, match="evaluations.review: unknown source 'nowhere'"):
        load_pack_file(path)
