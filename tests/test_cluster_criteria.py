"""Boundary tests of the provincial recognition conditions, computed from a stored registry."""

from __future__ import annotations

import pytest
from builders import OTHER_COUNTY, YEAR, RegistryBuilder

from smecluster.db import open_database
from smecluster.services.clusters import evaluate_clusters


@pytest.fixture
def builder(database_url):
    return RegistryBuilder(open_database(database_url))


def _criteria(builder: RegistryBuilder) -> dict:
    builder.build()
    (verdict,) = evaluate_clusters(builder.engine, year=YEAR)
    out = {}
    for c in verdict.criteria:
        out[c.id] = c
        for child in c.children:
            out[child.id] = child
    out["outcome"] = verdict.outcome
    return out


def test_rd_growth_of_exactly_ten_percent_passes(builder):
    """SME R&D growing exactly 10% a year meets 不低于10% despite floating-point error."""
    builder.grow_rd(0.10)
    assert _criteria(builder)["J6"].status == "pass"


def test_rd_growth_of_9_99_percent_fails(builder):
    """9.99% a year is below 10%, and the gap says so."""
    builder.grow_rd(0.0999)
    j6 = _criteria(builder)["J6"]
    assert j6.status == "fail"
    assert "9.99%" in j6.gap


def test_cloud_share_of_30_percent_passes(builder):
    """6 of 20 members on the cloud is exactly 30%, which meets 不低于30%."""
    builder.on_cloud(6)
    assert _criteria(builder)["J7"].status == "pass"


def test_cloud_gap_counts_firms(builder):
    """5 of 20 on the cloud fails and the gap names the one more firm needed."""
    builder.on_cloud(5)
    j7 = _criteria(builder)["J7"]
    assert j7.status == "fail"
    assert "1 more enterprises" in j7.gap


def test_two_little_giants_and_fourteen_srdi_fail(builder):
    """2 little giants and 14 SRDI SMEs meet neither alternative of J4."""
    builder.designate("little_giant", 2)
    builder.designate("srdi_sme", 14, offset=2)
    c = _criteria(builder)
    assert (c["J4a"].status, c["J4b"].status, c["J4"].status) == ("fail", "fail", "fail")
    assert c["outcome"] == "not_recognised"


def test_fifteen_srdi_pass_the_alternative(builder):
    """15 SRDI SMEs meet J4 through its second alternative."""
    builder.designate("srdi_sme", 15)
    c = _criteria(builder)
    assert (c["J4a"].status, c["J4b"].status, c["J4"].status) == ("fail", "pass", "pass")


def test_three_little_giants_pass(builder):
    """3 little giants in the leading industry meet J4a."""
    builder.designate("little_giant", 3)
    assert _criteria(builder)["J4a"].status == "pass"


def test_little_giant_outside_leading_industry_does_not_count(builder):
    """A little giant in another industry does not count towards J4a."""
    builder.industry[builder.members[0]] = "3484"
    builder.designate("little_giant", 3)
    assert _criteria(builder)["J4a"].value == 2


def test_member_outside_county_fails(builder):
    """One member registered in another county fails J1."""
    builder.county[builder.members[-1]] = OTHER_COUNTY
    j1 = _criteria(builder)["J1"]
    assert (j1.status, j1.value) == ("fail", 1)


def test_member_located_outside_county_fails(builder):
    """A member registered in Liyang but located in Wujin fails J1 (location, not only registration)."""
    for i, u in enumerate(builder.members):
        builder.location[u] = (119.48 + 0.001 * i, 31.42)  # Liyang town centre
    builder.location[builder.members[0]] = (119.94, 31.70)  # Wujin district
    j1 = _criteria(builder)["J1"]
    assert (j1.status, j1.value) == ("fail", 1)


def test_members_located_in_county_pass(builder):
    """Members located inside Liyang pass J1 and give a footprint from their hull."""
    for i, u in enumerate(builder.members):
        builder.location[u] = (119.48 + 0.002 * (i % 5), 31.42 + 0.002 * (i // 5))
    c = _criteria(builder)
    assert c["J1"].status == "pass"
    assert 0 < c["J2"].value < 1


@pytest.mark.parametrize(("platforms", "status"), [(4, "fail"), (5, "pass")])
def test_four_platforms_fail_five_pass(builder, platforms, status):
    """J5 needs at least 5 provincial-or-above platforms: 4 fail, 5 pass."""
    builder.platforms = platforms
    j5 = _criteria(builder)["J5"]
    assert (j5.status, j5.value) == (status, platforms)


def test_declared_footprint_of_100_km2_passes(builder):
    """A declared area of exactly 100 km2 meets 一般不超过100平方公里."""
    builder.declared = {"footprint_km2": 100}
    j2 = _criteria(builder)["J2"]
    assert (j2.status, j2.value_source) == ("pass", "declared")


def test_declared_footprint_of_100_1_km2_warns(builder):
    """100.1 km2 exceeds a soft limit: warn, not fail, and the outcome needs review."""
    builder.declared = {"footprint_km2": 100.1}
    builder.designate("srdi_sme", 15)
    c = _criteria(builder)
    assert c["J2"].status == "warn"
    assert c["outcome"] == "recognised"


def test_missing_footprint_is_unknown_not_pass(builder):
    """Without boundary, locations or declared area the footprint is unknown."""
    builder.designate("srdi_sme", 15)
    c = _criteria(builder)
    assert c["J2"].status == "unknown"
    assert c["outcome"] == "insufficient_data"


def test_missing_rd_data_is_unknown(builder):
    """Members with no R&D figures give an unknown J6, never a pass."""
    builder.rd = {u: [None, None, None, None] for u in builder.members}
    assert _criteria(builder)["J6"].status == "unknown"


def test_declared_figure_that_differs_is_flagged(builder):
    """A declared cloud share of 50% against a registry 30% is shown and flagged."""
    builder.on_cloud(6)
    builder.declared = {"cloud_share": 0.5}
    j7 = _criteria(builder)["J7"]
    assert (j7.value, j7.declared, j7.discrepancy) == (pytest.approx(0.3), 0.5, True)


def test_cluster_without_members_or_firms_is_evaluated(database_url):
    """A new application with no members in a county with no firms gets a verdict, not an error."""
    from builders import COUNTY, INDUSTRIES, REGIONS
    from sqlalchemy import insert

    from smecluster.registry.models import Cluster, Industry, Region

    engine = open_database(database_url)
    with engine.begin() as conn:
        conn.execute(insert(Region), REGIONS)
        conn.execute(insert(Industry), INDUSTRIES)
        conn.execute(insert(Cluster), [{"code": "new", "name": "新集群", "county_code": COUNTY,
                                        "leading_industries": ["384"], "declared": {}, "status": "draft"}])
    (verdict,) = evaluate_clusters(engine, year=YEAR)
    status = {c.id: c.status for c in verdict.criteria}
    # no platforms and no quality firms are counted failures (0 < 5), not missing data: any fail -> not recognised
    assert (status["J4"], status["J5"]) == ("fail", "fail")
    assert status["J6"] == "unknown"  # no R&D figures: unknown, never a pass
    assert verdict.outcome == "not_recognised"


def _set_designation_dates(builder: RegistryBuilder, valid_from, valid_until, year: int) -> None:
    from sqlalchemy import update

    from smecluster.registry.models import Designation

    with builder.engine.begin() as conn:
        conn.execute(update(Designation).values(valid_from=valid_from, valid_until=valid_until, year=year))


def test_designation_ending_in_january_does_not_count_for_the_year(builder):
    """One rule everywhere (start <= D <= end, D = 31 December of the year): little giants whose title
    ended on 31 January no longer count for that year, and the verdict states D."""
    from datetime import date

    builder.designate("little_giant", 3)
    builder.build()
    (before,) = evaluate_clusters(builder.engine, year=YEAR)
    assert [c.status for c in before.criteria if c.id == "J4"] == ["pass"]
    _set_designation_dates(builder, date(YEAR - 3, 2, 1), date(YEAR, 1, 31), YEAR - 3)
    (verdict,) = evaluate_clusters(builder.engine, year=YEAR)
    assert verdict.on == f"{YEAR}-12-31"
    assert [c.status for c in verdict.criteria if c.id == "J4"] == ["fail"]


def test_designation_without_end_date_lasts_the_packs_validity(builder):
    """No end date: valid for the tier pack's 3 years, not for ever (granted YEAR-3: ended YEAR-1)."""
    from datetime import date

    builder.designate("little_giant", 3)
    builder.build()
    _set_designation_dates(builder, None, None, YEAR - 2)
    (held,) = evaluate_clusters(builder.engine, year=YEAR)
    assert [c.status for c in held.criteria if c.id == "J4"] == ["pass"]
    _set_designation_dates(builder, date(YEAR - 3, 1, 1), None, YEAR - 3)
    (lapsed,) = evaluate_clusters(builder.engine, year=YEAR)
    assert [c.status for c in lapsed.criteria if c.id == "J4"] == ["fail"]


def test_the_verdict_names_its_pack_and_a_declared_zero_the_registry_computes_agrees(builder):
    """The verdict names the pack it applied (id, version, effective date); declared cloud share 0 with no
    member on the cloud (computed 0) is no discrepancy (the share of a difference of two zeros is 0, not a
    division by zero)."""
    builder.on_cloud(0)
    builder.declared = {"cloud_share": 0.0}
    builder.build()
    (verdict,) = evaluate_clusters(builder.engine, year=YEAR)
    assert (verdict.policy["id"], verdict.policy["version"], verdict.policy["effective_from"]) == \
        ("jiangsu-cluster-2023", "2023.1", "2023-03-01")
    (cloud,) = [c for c in verdict.criteria if c.indicator == "cloud_share"]
    assert (cloud.declared, cloud.value, cloud.discrepancy) == (0.0, 0.0, False)
