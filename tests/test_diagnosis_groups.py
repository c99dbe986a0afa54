"""Diagnosis advice for a failing score group: the cheapest changes within that group (a search over its
bands) with the group's and the total score they give, never changes in other groups."""

from __future__ import annotations

from datetime import date

from tier_helpers import STRONG, WEAK, facts

from smecluster.services.diagnosis import diagnosis_from_facts

INNOVATION = {"I-S1", "I-S2"}  # the innovation group of innovative-sme-2022
ROUTES = ("st_award", "high_tech", "tech_demo", "equity", "rd_institution")  # no direct route (I-D1..D5)


def _innovative(**changes) -> dict:
    row = {**STRONG, "uscc": "91320581MA1TEST01X", "name": "示例", "county_code": "320581",
           "industry_code": "3399", **{k: WEAK[k] for k in WEAK if k.startswith(ROUTES)}, **changes}
    d = diagnosis_from_facts(facts(row), 2024, date(2025, 6, 30))
    return next(t for t in d["tiers"] if t["tier"] == "innovative_sme")


def test_a_failing_group_gets_its_cheapest_fix_within_the_group():
    """Innovation 15 (< 20) with Ⅱ类 IP (5 points) and R&D at 2.5% (10 points); growth 20 with room to gain
    (main-business growth 6.25%: 10 of 20 points) and the total 65 above the pass mark 60. The advice names
    innovation, one change inside it worth 5 points, innovation 20 and the total 70 after it; growth's
    criteria, whose points would leave innovation failing, are not offered."""
    t = _innovative(ip_class1_high_value=0, ip_class1_own=0, ip_class1=0, ip_class2=2, rd_spending=500.0,
                    main_revenue=17000.0)
    groups = {g["group"]: g["score"] for g in t["score"]["groups"]}
    assert (t["outcome"], groups["innovation"], t["score"]["score"]) == ("does_not_qualify", 15, 65)
    assert [g["id"] for g in t["gaps"]] == ["group:innovation"]
    fix = t["score"]["group_fixes"][0]
    assert fix["group"] == "innovation" and fix["reachable"]
    assert len(fix["changes"]) == 1 and {c["criterion"] for c in fix["changes"]} <= INNOVATION
    assert fix["changes"][0]["gain"] == 5 and fix["score_after"] == 20 and fix["total_after"] == 70
    # either IP Ⅱ类 → Ⅰ类 (5 → 10) or R&D 2.5% → 3% (10 → 15): the next band up, one band climbed
    change = fix["changes"][0]
    assert change["steps"] == 1 and change["points_to"] - change["points_from"] == 5
    gap = t["gaps"][0]
    assert gap["advice"].startswith("创新能力得分 15，低于最低要求 20：")
    assert "创新能力可达 20 分，总分 70" in gap["advice"]
    assert "innovation scores 15, below the minimum 20" in gap["advice_en"]


def test_the_search_takes_two_steps_when_one_band_is_not_enough():
    """Innovation 5 (no IP: 0 points; R&D at 1.5%: 5 points) needs 15 more points: the IP criterion alone can
    give them (none → Ⅰ类高价值, 0 → 20), so the search prefers that one change to two smaller ones."""
    t = _innovative(ip_class1_high_value=0, ip_class1_own=0, ip_class1=0, ip_class2=0, rd_spending=300.0)
    fix = t["score"]["group_fixes"][0]
    assert fix["score"] == 5 and fix["score_after"] >= 20
    assert len(fix["changes"]) == 1 and {c["criterion"] for c in fix["changes"]} <= INNOVATION
    # the fewest bands climbed for +15 with no overshoot: IP none → 自主研发Ⅰ类 (0 → 15: past 5, 10, to 15) or
    # R&D 1.5% → 5% (5 → 20: past 10, 15, to 20); three bands either way
    assert (fix["changes"][0]["steps"], fix["changes"][0]["gain"], fix["score_after"]) == (3, 15, 20)


def test_an_unreachable_group_says_so():
    """A group whose every criterion at its best band still misses the minimum is reported as beyond reach
    within the group (no invented changes)."""
    from smecluster.analytics.tier_gaps import group_fixes
    from smecluster.analytics.tier_query import TierPlan
    from smecluster.policy.pack import load_pack

    pack = load_pack("innovative-sme-2022").model_copy(deep=True)
    pack.pass_rule.group_minimums["innovation"] = 50  # two criteria of 20 points at most
    scored = [c for c in pack.criteria if c.role == "score"]
    plan = TierPlan("innovative_sme", pack, points={c.id: f"p_{c.id}" for c in scored}, groups=["innovation"])
    row = {"innovative_sme__score": 60, "innovative_sme__group_innovation": 20, "p_I-S1": 10, "p_I-S2": 10}
    fixes = group_fixes(plan, row, {})
    assert len(fixes) == 1 and not fixes[0]["reachable"] and fixes[0]["changes"] == []
    assert "无法补足" in fixes[0]["advice"]


def _leaf(cid: str, status: str, short=None, threshold=None) -> dict:
    return {"id": cid, "status": status, "shortfall": short, "threshold": threshold}


def test_a_failing_any_lists_its_cheapest_branch_first_and_the_others_as_alternatives():
    """Revenue 900 of 1000 (10% short) or equity 0 of 2000 (all of it short): the revenue branch is the
    cheapest way through S-B3 and comes first; the equity branch follows marked as an alternative."""
    from smecluster.analytics.tier_gaps import unmet

    report = {"id": "S-B3", "status": "fail", "combine": "any", "children": [
        _leaf("S-B3b", "fail", 2000, 2000), _leaf("S-B3a", "fail", 100, 1000)]}
    got = unmet(report)
    assert [g["id"] for g in got] == ["S-B3a", "S-B3b"]
    assert "alternative" not in got[0] and got[1]["alternative"] == "S-B3"


def test_at_least_k_asks_for_the_cheapest_missing_ones():
    """Two of four needed, one met: the cheapest failing one is asked for, the rest are alternatives."""
    from smecluster.analytics.tier_gaps import unmet

    report = {"id": "X", "status": "fail", "combine": "at_least 2", "children": [
        _leaf("a", "pass"), _leaf("b", "fail", 5, 10), _leaf("c", "fail", 1, 10), _leaf("d", "unknown")]}
    got = unmet(report)
    assert [g["id"] for g in got] == ["c", "b", "d"]
    assert [g.get("alternative") for g in got] == [None, "X", "X"]


def test_band_targets_say_what_the_value_must_become():
    """The next band's target as the advice prints it: at least / more than its lower edge when the value is
    below it, at most / less than its upper edge otherwise, the band's label for a named band."""
    from smecluster.analytics.tier_gaps import _band_target
    from smecluster.policy.pack import Band

    assert _band_target(Band(min=0.03, max=0.05, points=15), 0.025, "ratio") == "≥ 3%"
    assert _band_target(Band(min=0.55, min_inclusive=False, points=5), 0.5, "ratio") == "> 55%"
    assert _band_target(Band(max=0.55, max_inclusive=True, points=10), 0.6, "ratio") == "≤ 55%"
    assert _band_target(Band(equals=4, points=20, label="Ⅰ类高价值"), 1, "code") == "Ⅰ类高价值"


def test_a_failing_leaf_gap_carries_its_shortfall():
    """Eight members where ten are needed: the gap is two (the figure the cheapest-branch order reads)."""
    from smecluster.analytics.tier_gaps import leaf_gap
    from smecluster.policy.pack import Criterion

    c = Criterion(id="M", title="成员", indicator="members", comparator=">=", threshold=10)
    gap = leaf_gap(c, 8, "fail")
    assert (gap["shortfall"], gap["value"], gap["threshold"]) == (2, 8, 10)
    assert "shortfall" not in leaf_gap(c, None, "unknown")
    assert (gap["label"], gap["threshold_text"]) == ("集群成员企业数", "≥ 10")


def test_a_fix_and_a_scored_criterion_name_the_indicator_and_the_firms_own_value():
    """The advice shows what the firm has now: the change names R&D intensity and the firm's 2.5% (as set above),
    and each scored criterion's report carries its indicator's label and value as the page prints them."""
    t = _innovative(ip_class1_high_value=0, ip_class1_own=0, ip_class1=0, ip_class2=2, rd_spending=500.0,
                    main_revenue=17000.0)
    change = next(c for c in t["score"]["group_fixes"][0]["changes"] if c["indicator"] == "rd_intensity")
    assert (change["label"], change["value_text"], change["target"]) == (
        "研发费用占营业收入比重（上年度）", "2.5%", "≥ 3%")
    scored = {c["id"]: c for c in t["criteria"] if c["id"] in ("I-S1", "I-S2", "I-S4")}
    assert {k: (c["label"], c["value_text"], c["points"]) for k, c in scored.items()} == {
        "I-S1": ("主导产品知识产权等级（4 一类高价值、3 自主研发一类、2 一类、1 二类、0 无）", "Ⅱ类", 5),
        "I-S2": ("研发费用占营业收入比重（上年度）", "2.5%", 10),
        "I-S4": ("资产负债率", "40%", 10),
    }


def test_a_scored_criterion_without_its_figure_is_unknown_not_passed():
    """R&D spending not reported: I-S2 earns no points and says unknown (未填报), with the advice to report it;
    the criteria with their figures are still scored."""
    t = _innovative(rd_spending=None)
    by_id = {c["id"]: c for c in t["criteria"]}
    assert (by_id["I-S2"]["status"], by_id["I-S2"]["points"], by_id["I-S2"]["value_text"]) == (
        "unknown", None, "未填报 / not reported")
    assert by_id["I-S2"]["advice"].startswith("补充填报“研发费用占营业收入比重（上年度）”后方可计分")
    assert (by_id["I-S4"]["status"], by_id["I-S4"]["points"]) == ("pass", 10)
    assert (by_id["I-D1"]["status"], by_id["I-D1"]["label"]) == ("fail", "近三年获国家级或省级科技奖励")


def test_criteria_the_system_does_not_assess_go_to_the_reviewers():
    """A criterion left to judgement (L5) and one a province marks `assessed: false` are both listed for review
    in the compiled plan, and neither gets a column of its own in the SQL; the others are computed."""
    from smecluster.analytics.tier_query import compile_tiers
    from smecluster.policy.pack import load_pack

    pack = load_pack("little-giant-2022").model_copy(deep=True)
    assert compile_tiers([pack]).tiers[0].review == ["L5"]
    leaf = next(c for top in pack.criteria for c in top.walk() if c.id == "L2c")  # debt ratio, a plain test
    leaf.assessed = False
    plan = compile_tiers([pack]).tiers[0]
    assert {"L5", "L2c"} <= set(plan.review)
    assert "L2c" not in plan.status and "L5" not in plan.status
    assert {"L1a", "L2a", "L2b"} <= set(plan.status)  # the others are still computed


def test_a_pack_of_direct_routes_alone_passes_only_the_firms_on_a_route():
    """A pack with direct routes and no score rule (a province may write one): a firm on no route fails, a firm on
    one passes, and the path column says which (SQL run on DuckDB over two firms' facts)."""
    import duckdb
    import polars as pl
    from tier_helpers import facts

    from smecluster.analytics.tier_query import compile_tiers
    from smecluster.policy.compile import FAIL, PASS
    from smecluster.policy.pack import load_pack

    pack = load_pack("innovative-sme-2022").model_copy(deep=True)
    pack.pass_rule.score_at_least = None
    pack.pass_rule.group_minimums = {}
    pack.criteria = [c for c in pack.criteria if c.role != "score"]
    plan = compile_tiers([pack])
    base = {**STRONG, "name": "示例", "county_code": "320581", "industry_code": "3399"}
    no_route = facts({**base, "uscc": "X1", **{k: WEAK[k] for k in WEAK if k.startswith(ROUTES)}})
    on_routes = facts({**base, "uscc": "X2"})
    con = duckdb.connect()
    con.register("facts", pl.concat([no_route, on_routes], how="diagonal_relaxed").to_arrow())
    tier = plan.tiers[0]
    out = con.sql(plan.sql).pl().sort("uscc")
    assert out.select("uscc", tier.col("path"), tier.col("outcome")).rows() == [("X1", FAIL, FAIL), ("X2", PASS, PASS)]


def test_one_baseline_short_of_srdi_is_one_short_and_two_are_not():
    """A firm meeting every SRDI rule but the baseline's niche years (1 of 2) is one short of the tier; short of
    the R&D baseline too, it is not (baseline rules count like conditions)."""
    base = {**STRONG, "uscc": "91320581MA1TEST01X", "name": "示例", "county_code": "320581", "industry_code": "3399"}

    def srdi(**changes) -> tuple[str, bool]:
        d = diagnosis_from_facts(facts({**base, **changes}), 2024, date(2025, 6, 30))
        t = next(t for t in d["tiers"] if t["tier"] == "srdi_sme")
        return t["outcome"], t["one_short"]

    assert srdi() == ("qualifies", False)
    assert srdi(niche_years=1) == ("does_not_qualify", True)
    assert srdi(niche_years=1, rd_spending=1.0) == ("does_not_qualify", False)
