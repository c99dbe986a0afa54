"""Discovery of candidate clusters among noise."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from smecluster.geo.discover import DiscoveryParams, discover


def _firms(n_park: int, n_noise: int, seed: int = 11) -> pl.DataFrame:
    """A dense park of battery makers (38xx) in Liyang among firms scattered over southern Jiangsu."""
    rng = np.random.default_rng(seed)
    park_lon = 119.40 + rng.normal(0, 0.008, n_park)
    park_lat = 31.40 + rng.normal(0, 0.008, n_park)
    noise_lon = rng.uniform(118.5, 121.0, n_noise)
    noise_lat = rng.uniform(31.0, 32.5, n_noise)
    industry = np.concatenate([np.full(n_park, "3841"), rng.choice(["3841", "1713", "2929"], n_noise)])
    return pl.DataFrame(
        {
            "uscc": [f"P{i}" for i in range(n_park)] + [f"N{i}" for i in range(n_noise)],
            "industry_code": industry,
            "lon": np.concatenate([park_lon, noise_lon]),
            "lat": np.concatenate([park_lat, noise_lat]),
        }
    )


def test_dense_group_found_among_noise():
    """A dense group of 80 firms is found as one candidate, made of the group's members."""
    found = discover(_firms(80, 3000), prefix="32")
    assert found.height == 1
    row = found.row(0, named=True)
    members = set(row["member_uscc"])
    assert row["industry"] == "38" and row["county_code"] == "320481"
    assert len({m for m in members if m.startswith("P")}) >= 75
    assert len({m for m in members if m.startswith("N")}) <= 5
    assert row["inside_county"] and 0 < row["area_km2"] < 30


def test_noise_alone_gives_no_candidate():
    """Scattered firms with no dense group give no candidate."""
    assert discover(_firms(0, 3000), prefix="32").is_empty()


def test_industry_filter_keeps_one_industry():
    """Filtering on another industry finds nothing, as the group is in division 38."""
    assert discover(_firms(80, 3000), industry="17", prefix="32").is_empty()


def test_designations_and_platforms_counted():
    """SRDI and high-tech members and provincial platforms hosted in the group are counted."""
    firms = _firms(80, 500)
    designation = pl.DataFrame(
        {"uscc": ["P0", "P1", "P2", "N1"], "kind": ["srdi_sme", "little_giant", "high_tech", "srdi_sme"]}
    )
    platform = pl.DataFrame({"level": ["provincial", "city"], "host_uscc": ["P3", "P4"]})
    row = discover(firms, designation, platform, prefix="32").row(0, named=True)
    assert (row["srdi"], row["high_tech"], row["platforms_nearby"]) == (2, 1, 1)


@pytest.mark.parametrize("min_members", [50, 200])
def test_min_members_threshold(min_members):
    """A group smaller than min_members is not a candidate."""
    found = discover(_firms(80, 500), params=DiscoveryParams(min_members=min_members), prefix="32")
    assert found.height == (1 if min_members <= 80 else 0)


def test_weighted_dbscan_matches_scikit_learn():
    """dbscan_weighted labels the same core and noise points as scikit-learn's DBSCAN with weights."""
    from sklearn.cluster import DBSCAN
    from sklearn.metrics import adjusted_rand_score

    from smecluster.geo.discover import dbscan_weighted

    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 300, (300, 2)), rng.uniform(-2e4, 2e4, (1500, 2))])
    weight = rng.integers(1, 4, len(points))
    ours = dbscan_weighted(points, weight, 600, 12)
    theirs = DBSCAN(eps=600, min_samples=12).fit_predict(points, sample_weight=weight)
    assert np.array_equal(ours >= 0, theirs >= 0)
    assert adjusted_rand_score(ours, theirs) > 0.99
