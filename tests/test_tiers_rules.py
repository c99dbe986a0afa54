"""Tier verdicts: direct routes, missing data, pass rules, lists, and the pack in force by date."""

from __future__ import annotations

from datetime import date

import pytest
from tier_helpers import STRONG, WEAK, evaluate_one, facts

from smecluster.policy.pack import PackError, load_pack
from smecluster.policy.tiers import tier_pack, tier_packs
from smecluster.services.tiers import evaluate_facts, tier_lists

# One route each: the fields that meet it (everything else as the weak firm).
INNOVATIVE_ROUTES = {
    "I-D1": {"provincial_award_rank_3y": 7},
    "I-D2": {"high_tech": True},
    "I-D3": {"rd_institution_level": 3},
    "I-D4": {"equity_3y": 500.0},
}
SRDI_ROUTES = {
    "S-D1": {"provincial_award_rank_3y": 3},
    "S-D2": {"rd_spending": 1000.0, "rd_spending_prev": 1000.0},
    "S-D3": {"equity_2y": 6000.0},
    "S-D4": {"maker_china_rank_3y": 500},
}
# Weak on score but meeting the SRDI baseline (2 years in niche, R&D 100万 and 3%, revenue 1000万).
SRDI_BASELINE = {**WEAK, "niche_years": 2.0, "revenue": 3000.0, "rd_spending": 100.0, "rd_spending_prev": 90.0}


def test_weak_firm_fails_innovative_sme():
    """Without points or a route the innovative-SME verdict is does_not_qualify."""
    assert evaluate_one(WEAK, tier="innovative_sme")["innovative_sme__outcome"] == "does_not_qualify"


@pytest.mark.parametrize("route", sorted(INNOVATIVE_ROUTES))
def test_innovative_direct_route_qualifies(route):
    """Each innovative-SME direct route alone qualifies a firm whose score fails."""
    out = evaluate_one({**WEAK, **INNOVATIVE_ROUTES[route]}, tier="innovative_sme")
    assert out[f"innovative_sme__{route}"] == "pass"
    assert out["innovative_sme__outcome"] == "qualifies"


@pytest.mark.parametrize("route", sorted(SRDI_ROUTES))
def test_srdi_direct_route_qualifies_with_baseline(route):
    """Each SRDI direct route replaces the 60 points when the baseline conditions are met."""
    out = evaluate_one({**SRDI_BASELINE, **SRDI_ROUTES[route]}, tier="srdi_sme")
    assert out["srdi_sme__score"] < 60
    assert out["srdi_sme__outcome"] == "qualifies"


def test_srdi_direct_route_does_not_replace_baseline():
    """A direct route does not help a firm under the SRDI baseline (under 2 years in the niche)."""
    out = evaluate_one({**SRDI_BASELINE, "niche_years": 1.0, "equity_2y": 6000.0}, tier="srdi_sme")
    assert out["srdi_sme__outcome"] == "does_not_qualify"


@pytest.mark.parametrize("route", [{"national_award_rank_3y": 3}, {"maker_china_rank_3y": 50}])
def test_little_giant_direct_route_replaces_innovation_group(route):
    """A national award (top 3) or Maker China top 50 stands in for the little giant's innovation group."""
    base = {**STRONG, "rd_institution_level": 0, "ip_class1_applied": 0}
    assert evaluate_one(base, tier="little_giant")["little_giant__L4"] == "fail"
    out = evaluate_one({**base, **route}, tier="little_giant")
    assert out["little_giant__L4"] == "pass"
    assert out["little_giant__outcome"] == "qualifies_pending_review"  # L5 is a reviewer's judgement


def test_award_ranked_below_the_cut_is_no_route():
    """A provincial award ranked 4th is not the SRDI route (top 3 only)."""
    out = evaluate_one({**SRDI_BASELINE, "provincial_award_rank_3y": 4}, tier="srdi_sme")
    assert out["srdi_sme__S-D1"] == "fail"


def test_empty_firm_is_never_pass():
    """A firm with no data has no passing leaf and no qualifying tier: unknown, never pass."""
    out = evaluate_one({})
    for plan in out["_plans"].values():
        leaves = [c for c in plan.pack.all_criteria() if c.indicator and c.bands is None and c.id in plan.status]
        assert all(out[plan.status[c.id]] in ("unknown", "fail") for c in leaves)
        assert out[plan.col("outcome")] != "qualifies"
    assert out["highest_rank"] == -1


def test_missing_required_figure_gives_unknown():
    """The strong firm without its market share is unknown for little giant, not pass."""
    assert evaluate_one(STRONG, tier="little_giant")["little_giant__outcome"] == "qualifies_pending_review"
    out = evaluate_one({**STRONG, "market_share": None}, tier="little_giant")
    assert out["little_giant__L3a"] == "unknown"
    assert out["little_giant__outcome"] == "unknown"


def test_missing_score_indicator_gives_unknown_when_it_could_decide():
    """A firm that fails with full data is unknown when missing revenue hides 40 possible points."""
    row = {**WEAK, "ip_class2": 1, "rd_spending": 600.0, "main_revenue": 10400.0, "main_revenue_prev": 10000.0,
           "total_liabilities": 5000.0}
    full = evaluate_one({**row, "revenue": 20000.0}, tier="innovative_sme")
    out = evaluate_one({**row, "revenue": None}, tier="innovative_sme")
    assert full["innovative_sme__outcome"] == "does_not_qualify"
    assert out["innovative_sme__outcome"] == "unknown"


def test_group_minimum_blocks_a_high_total():
    """60 points with under 15 in specialisation does not qualify an innovative SME."""
    row = {**WEAK, "ip_class1_high_value": 1, "ip_class1": 1, "ip_class1_own": 1, "rd_spending": 5000.0,
           "revenue": 100000.0, "main_revenue": 46000.0, "main_revenue_prev": 40000.0,
           "total_liabilities": 5000.0, "strategic_emerging": False}
    out = evaluate_one(row, tier="innovative_sme")
    assert out["innovative_sme__score"] >= 60
    assert out["innovative_sme__group_specialisation"] < 15
    assert out["innovative_sme__outcome"] == "does_not_qualify"


@pytest.mark.parametrize(("on", "expected"), [
    (date(2025, 6, 30), "innovative-sme-2022"), (date(2026, 3, 31), "innovative-sme-2022"),
    (date(2026, 4, 1), "innovative-sme-2026"),
])
def test_pack_in_force_by_date(on, expected):
    """The 2022 pack applies up to 2026-03-31 and the 2026 pack from 2026-04-01."""
    assert tier_pack("innovative_sme", on).id == expected


def test_single_champion_scheme_by_date():
    """The 2016 single-champion scheme applies in 2020, the 2023 Measures in 2024."""
    assert tier_pack("single_champion", date(2020, 1, 1)).id == "single-champion-2016"
    assert tier_pack("single_champion", date(2024, 1, 1)).id == "single-champion-2023"


def test_2026_srdi_pack_has_no_routes_or_score_and_is_unverified():
    """The 2026 SRDI pack has neither direct routes nor the 13 scored indicators; every criterion is
    UNVERIFIED (secondary sources) and named by every verdict of the tier."""
    pack = load_pack("srdi-sme-2026")
    assert not any(c.verified for c in pack.all_criteria())
    assert {c.role for c in pack.criteria} == {"baseline"} and pack.pass_rule is None
    ev = evaluate_facts(facts(STRONG), 2025, date(2026, 6, 30), "srdi_sme")
    assert not ev.tiers[0].points
    assert "S6-2" in ev.tiers[0].unverified and "S6-9" in ev.tiers[0].unverified


def test_2026_srdi_pack_asks_three_years_in_the_niche():
    """Two years in the niche meet the 2022 SRDI baseline but not the 2026 one."""
    row = {**STRONG, "niche_years": 2.0}
    assert evaluate_one(row, date(2025, 6, 30), "srdi_sme")["srdi_sme__S-B1"] == "pass"
    assert evaluate_one(row, date(2026, 6, 30), "srdi_sme")["srdi_sme__S6-2"] == "fail"


def test_no_tier_pack_before_the_first_text():
    """Asking for tiers before any text was in force is a clear error."""
    with pytest.raises(PackError, match="no innovative_sme pack serves"):
        tier_packs(date(2010, 1, 1))


def test_lists_name_candidates_and_due_for_review():
    """A strong undesignated firm is a candidate; a weak designated SRDI firm is due for re-review."""
    ev = evaluate_facts(facts(STRONG, {**WEAK, "designated_srdi_sme": True}), 2024, date(2025, 6, 30))
    lists = tier_lists(ev)
    cand = lists["eligible_not_designated"]
    assert set(cand.filter(cand["uscc"] == "TEST00000000000000")["tier"]) >= {"innovative_sme", "srdi_sme"}
    due = lists["designated_not_eligible"]
    assert due.select("uscc", "tier").rows() == [("TEST00000000000001", "srdi_sme")]


def test_one_short_of_next_tier():
    """A firm meeting little giant but for its market share is listed one criterion short of it."""
    ev = evaluate_facts(facts({**STRONG, "market_share": 0.05}), 2024, date(2025, 6, 30))
    short = tier_lists(ev)["one_short_of_next"]
    assert short.select("tier").to_series().to_list() == ["little_giant"]


def test_large_firm_is_no_sme_tier_but_can_be_champion():
    """A large firm fails the SME condition of the SME tiers; the single champion has none."""
    out = evaluate_one({**STRONG, "size_class": "large", "global_rank": 1, "main_revenue": 45000.0,
                        "main_revenue_prev": 42000.0, "main_revenue_prev2": 41000.0})
    assert out["innovative_sme__I-0"] == "fail" and out["innovative_sme__outcome"] == "does_not_qualify"
    assert out["little_giant__L0"] == "fail"
    assert out["single_champion__outcome"] != "does_not_qualify"


def test_unknown_size_is_unknown_not_sme():
    """Without the figures that set its size class a firm is unknown for the SME condition."""
    out = evaluate_one({**STRONG, "size_class": None}, tier="innovative_sme")
    assert out["innovative_sme__I-0"] == "unknown"
