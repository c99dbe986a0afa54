"""The demo tier fields: deterministic, and rich enough to fill the three lists."""

from __future__ import annotations

from datetime import date

import pytest

from smecluster.analytics.enterprise_facts import build_facts
from smecluster.demo.generator import generate
from smecluster.demo.tier_profiles import synthetic_facts, tier_profiles
from smecluster.services.tiers import default_on, evaluate_facts, summary, tier_lists


@pytest.fixture(scope="module")
def demo():
    """A small demo registry with its tier fields."""
    data = generate(scale=0.3)
    return data, tier_profiles(data.enterprise, data.enterprise_year, data.designation, data.year)


def test_same_seed_same_profiles(demo):
    """A second registry generated afresh with the same seed gives the same profile rows; another seed does not."""
    data, profiles = demo
    again = generate(scale=0.3)  # a new registry, not the fixture's frames
    assert again.enterprise is not data.enterprise
    assert profiles.equals(tier_profiles(again.enterprise, again.enterprise_year, again.designation, again.year))
    other = tier_profiles(again.enterprise, again.enterprise_year, again.designation, again.year, seed=1)
    assert other.shape == profiles.shape and not other.equals(profiles)


def test_profiles_cover_four_years(demo):
    """Every enterprise has profile rows for the data year and the three before it (so the year before
    the newest has its full 2-year window too)."""
    data, profiles = demo
    assert profiles.height == 4 * data.enterprise.height
    assert sorted(profiles["year"].unique().to_list()) == [data.year - 3, data.year - 2, data.year - 1, data.year]
    assert profiles["srdi_eval_score"].is_not_null().sum() > 0 and profiles["national_rank"].max() > 0


def test_demo_fills_the_three_lists(demo):
    """The demo has candidates, firms due for re-review and firms one criterion short."""
    data, profiles = demo
    on = date(data.year, 12, 31)
    facts = build_facts(data.enterprise, data.enterprise_year, profiles, data.designation, data.year, on)
    lists = tier_lists(evaluate_facts(facts, data.year, on))
    assert all(frame.height > 0 for frame in lists.values()), {k: v.height for k, v in lists.items()}


def test_demo_newest_year_under_2026_and_earlier_under_2022(demo):
    """The demo's 2025 data is judged by the 2026 packs today; 2024 data by the 2022 ones, with results."""
    data, profiles = demo
    got = {}
    for year in (data.year, data.year - 1):
        on = default_on(year, today=date(2026, 11, 30))
        facts = build_facts(data.enterprise, data.enterprise_year, profiles, data.designation, year, on)
        ev = evaluate_facts(facts, year, on)
        s = summary(ev)
        got[year] = dict(zip(s["tier"], s["pack"], strict=True))
        assert s.filter(s["tier"] == "srdi_sme")["qualifies"][0] > 0
    assert got[data.year]["srdi_sme"] == "srdi-sme-2026" and got[data.year]["little_giant"] == "little-giant-2026"
    earlier = got[data.year - 1]
    assert earlier["srdi_sme"] == "srdi-sme-2022" and earlier["innovative_sme"] == "innovative-sme-2022"


def test_demo_srdi_holders_hold_the_first_tier(demo):
    """The 2026 SRDI pack requires the first-tier title: the demo's SRDI firms outside the clusters hold
    one that is still valid when the newest year is evaluated (granted the year before)."""
    data, _ = demo
    d = data.designation
    members = set(data.cluster_member["uscc"].to_list())
    srdi = set(d.filter(d["kind"] == "srdi_sme")["uscc"].to_list()) - members
    first = set(d.filter((d["kind"] == "innovative_sme") & (d["year"] == data.year - 1))["uscc"].to_list())
    assert srdi and srdi <= first


def test_synthetic_facts_have_the_fact_columns():
    """The benchmark's in-memory firms carry every column the tier query reads."""
    facts = synthetic_facts(1000)
    ev = evaluate_facts(facts, 2024, date(2025, 6, 30), keys=("uscc",))
    assert ev.table.num_rows == 1000
