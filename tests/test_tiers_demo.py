"""The demo tier fields: deterministic, and rich enough to fill the three lists."""

from __future__ import annotations

from datetime import date

import pytest

from smecluster.analytics.enterprise_facts import build_facts
from smecluster.demo.generator import generate
from smecluster.demo.tier_profiles import synthetic_facts, tier_profiles
from smecluster.services.tiers import evaluate_facts, tier_lists


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


def test_profiles_cover_three_years(demo):
    """Every enterprise has profile rows for the data year and the two before it."""
    data, profiles = demo
    assert profiles.height == 3 * data.enterprise.height
    assert sorted(profiles["year"].unique().to_list()) == [data.year - 2, data.year - 1, data.year]


def test_demo_fills_the_three_lists(demo):
    """The demo has candidates, firms due for re-review and firms one criterion short."""
    data, profiles = demo
    on = date(data.year, 12, 31)
    facts = build_facts(data.enterprise, data.enterprise_year, profiles, data.designation, data.year, on)
    lists = tier_lists(evaluate_facts(facts, data.year, on))
    assert all(frame.height > 0 for frame in lists.values()), {k: v.height for k, v in lists.items()}


def test_synthetic_facts_have_the_fact_columns():
    """The benchmark's in-memory firms carry every column the tier query reads."""
    facts = synthetic_facts(1000)
    ev = evaluate_facts(facts, 2024, date(2025, 6, 30), keys=("uscc",))
    assert ev.table.num_rows == 1000
