"""Chart options for the web page: the tier funnel and a target's progress."""

from __future__ import annotations

from smecluster.reports.funnel import funnel_option, target_option
from smecluster.services.targets import projection


def test_funnel_lists_tiers_lowest_first():
    """The funnel has one entry per tier, in tier order, with the counts given."""
    option = funnel_option({"innovative_sme": 50, "srdi_sme": 10}, {"innovative_sme": 70})
    designated = option["series"][0]["data"]
    assert [d["value"] for d in designated] == [50, 10, 0, 0]
    assert option["series"][1]["data"][0]["value"] == 70


def test_projection_is_a_least_squares_line():
    """Counts 10, 20, 30 in 2021-2023 project 50 in 2025."""
    p = projection([2021, 2022, 2023], [10, 20, 30], 2025)
    assert round(p["at_deadline"], 6) == 50
    assert round(p["slope_per_year"], 6) == 10


def test_target_chart_runs_to_the_deadline():
    """The progress chart spans the counted years up to the deadline year, with the target line."""
    target = {"title": "t", "value": 100, "deadline": "2025-12-31",
              "by_year": [{"year": 2022, "count": 10}, {"year": 2023, "count": 20}],
              "projection": projection([2022, 2023], [10, 20], 2025)}
    option = target_option(target)
    assert option["xAxis"]["data"] == ["2022", "2023", "2024", "2025"]
    assert option["series"][1]["data"][-1] == 40
    assert option["series"][2]["data"] == [100] * 4


def test_funnel_names_tiers_by_the_pack_applied():
    """From 2026-04-01 the first tier is shown as 科技和创新型中小企业 in the funnel; before, 创新型中小企业."""
    from datetime import date

    from smecluster.services.tiers import tier_names_on

    after = funnel_option({"innovative_sme": 5}, labels=tier_names_on(date(2026, 4, 1)))
    before = funnel_option({"innovative_sme": 5}, labels=tier_names_on(date(2026, 3, 31)))
    assert after["series"][0]["data"][0]["name"] == "科技和创新型中小企业"
    assert before["series"][0]["data"][0]["name"] == "创新型中小企业"
