"""Discovery of clusters that are forming: density-based clustering of firm locations per industry.

Method (docs/decisions/0404-discovery-dbscan.md): firms are projected to metres (a local equal-area
projection), snapped to a `grid_m` grid and, per industry key (GB/T 4754 division by default),
clustered with scikit-learn's DBSCAN on the occupied grid cells weighted by their firm counts. A
group of at least `min_members` firms becomes a candidate. DBSCAN's density threshold is
`min_samples` firms within `eps_m` metres, raised where an industry is common everywhere to
`density_factor` times the firms its average density puts in such a disc, so that an industry
spread thinly over a whole province does not turn into one giant candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import shapely
from sklearn.cluster import DBSCAN

from smecluster.geo.area import area_km2
from smecluster.geo.assign import assign_counties
from smecluster.geo.footprint import containment, footprint_from_points
from smecluster.geo.projection import LocalProjection
from smecluster.geo.specialisation import LEVELS

SRDI_KINDS = ("srdi_sme", "little_giant", "single_champion")
PLATFORM_LEVELS = ("national", "provincial")


@dataclass(frozen=True)
class DiscoveryParams:
    """Parameters of discovery (documented in the module doc)."""

    eps_m: float = 1000.0
    min_samples: int = 8
    min_members: int = 15
    density_factor: float = 4.0
    grid_m: float = 50.0
    level: str = "division"
    footprint_method: str = "concave"
    platform_near_m: float = 1000.0


def _labels(x: np.ndarray, y: np.ndarray, params: DiscoveryParams, extent_km2: float) -> np.ndarray:
    """DBSCAN labels (-1 noise) of one industry's firms, on grid-snapped weighted cells."""
    cells = np.column_stack([np.round(x / params.grid_m), np.round(y / params.grid_m)]).astype(np.int64)
    unique, inverse, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    disc_km2 = np.pi * (params.eps_m / 1000.0) ** 2
    expected = len(x) / max(extent_km2, 1e-9) * disc_km2
    min_samples = max(params.min_samples, int(np.ceil(params.density_factor * expected)))
    model = DBSCAN(eps=params.eps_m / params.grid_m, min_samples=min_samples, algorithm="kd_tree")
    labels = model.fit_predict(unique.astype(np.float64), sample_weight=counts)
    return labels[inverse.ravel()]


def discover(
    enterprise: pl.DataFrame,
    designation: pl.DataFrame | None = None,
    platform: pl.DataFrame | None = None,
    lq: pl.DataFrame | None = None,
    params: DiscoveryParams | None = None,
    industry: str | None = None,
    county: str | None = None,
    prefix: str | None = None,
) -> pl.DataFrame:
    """Candidate clusters, one row each, largest first.

    `enterprise` needs uscc, industry_code, lon, lat (WGS-84). `designation` (uscc, kind), `platform`
    (level, host_uscc) and `lq` (county_code, industry, lq_* columns from `location_quotients` at the
    same level) add counts and quotients when given. `industry` keeps one industry key (e.g. '38'),
    `county` keeps candidates whose main county is that code; `prefix` limits the county lookup.
    """
    params = params or DiscoveryParams()
    width = LEVELS[params.level]
    firms = enterprise.select("uscc", "industry_code", "lon", "lat").filter(
        pl.col("lon").is_not_null() & pl.col("lat").is_not_null() & pl.col("lon").is_finite()
    )
    firms = firms.with_columns(pl.col("industry_code").str.slice(0, width).alias("industry"))
    if industry:
        firms = firms.filter(pl.col("industry") == industry[:width])
    if firms.is_empty():
        return _empty()
    lon, lat = firms["lon"].to_numpy(), firms["lat"].to_numpy()
    proj = LocalProjection.around(lon, lat)
    x, y = proj.forward(lon, lat)
    extent_km2 = float(np.ptp(x) * np.ptp(y) / 1e6) or 1.0
    keys = firms["industry"].to_numpy().astype(str)
    order = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.r_[True, keys[order][1:] != keys[order][:-1], True])
    label = np.full(len(keys), -1, dtype=np.int64)
    next_id = 0
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):  # one pass per industry key, not per firm
        idx = order[a:b]
        if len(idx) < params.min_members:
            continue
        lab = _labels(x[idx], y[idx], params, extent_km2)
        ok = lab >= 0
        label[idx[ok]] = lab[ok] + next_id
        next_id += int(lab.max()) + 1 if ok.any() else 0
    firms = firms.with_columns(pl.Series("candidate", label))
    members = firms.filter(pl.col("candidate") >= 0)
    sizes = members.group_by("candidate").len().filter(pl.col("len") >= params.min_members)
    members = members.join(sizes.select("candidate"), on="candidate")
    if members.is_empty():
        return _empty()
    members = members.with_columns(
        pl.Series("located_county", assign_counties(members["lon"].to_numpy(), members["lat"].to_numpy(), prefix),
                  dtype=pl.String)
    )
    return _summarise(members, firms, designation, platform, lq, params, county)


def _summarise(members, firms, designation, platform, lq, params, county) -> pl.DataFrame:
    srdi = set()
    high_tech = set()
    if designation is not None and not designation.is_empty():
        srdi = set(designation.filter(pl.col("kind").is_in(SRDI_KINDS))["uscc"].to_list())
        high_tech = set(designation.filter(pl.col("kind") == "high_tech")["uscc"].to_list())
    members = members.with_columns(
        pl.col("uscc").is_in(list(srdi)).alias("srdi"), pl.col("uscc").is_in(list(high_tech)).alias("high_tech")
    )
    hosts = None
    if platform is not None and not platform.is_empty():
        hosts = (
            platform.filter(pl.col("level").is_in(PLATFORM_LEVELS) & pl.col("host_uscc").is_not_null())
            .join(firms.select(pl.col("uscc").alias("host_uscc"), "lon", "lat").unique("host_uscc"), on="host_uscc")
        )
    stats = members.group_by("candidate").agg(
        pl.col("industry").first(),
        pl.len().alias("members"),
        pl.col("located_county").drop_nulls().mode().first().alias("county_code"),
        pl.col("located_county").drop_nulls().n_unique().alias("counties"),
        pl.col("srdi").sum().alias("srdi"),
        pl.col("high_tech").sum().alias("high_tech"),
        pl.col("uscc").alias("uscc"),
        pl.col("lon"),
        pl.col("lat"),
    )
    if county:
        stats = stats.filter(pl.col("county_code") == county)
    rows = []
    # One iteration per candidate (tens to hundreds), each a vectorised hull over its members.
    for row in stats.iter_rows(named=True):
        fp = footprint_from_points(row["lon"], row["lat"], params.footprint_method)
        inside = containment(fp, row["county_code"]).inside if row["county_code"] else False
        near = 0
        if hosts is not None and hosts.height:
            proj = LocalProjection.around(row["lon"], row["lat"])
            hx, hy = proj.forward(hosts["lon"].to_numpy(), hosts["lat"].to_numpy())
            near = int(shapely.dwithin(proj.to_metric(fp), shapely.points(hx, hy), params.platform_near_m).sum())
        rows.append(
            {
                "candidate": row["candidate"], "area_km2": round(area_km2(fp), 3), "inside_county": inside,
                "platforms_nearby": near, "footprint": shapely.to_geojson(fp),
                "centre_lon": float(np.mean(row["lon"])), "centre_lat": float(np.mean(row["lat"])),
            }
        )
    geo = pl.DataFrame(rows, schema=_GEO_SCHEMA)
    out = stats.drop("lon", "lat").join(geo, on="candidate").rename({"uscc": "member_uscc"})
    if lq is not None and not lq.is_empty():
        cols = [c for c in ("lq_firms", "lq_employment", "lq_output", "share_output") if c in lq.columns]
        out = out.join(lq.select("county_code", "industry", *cols), on=["county_code", "industry"], how="left")
    return out.sort(["members", "candidate"], descending=[True, False])


_GEO_SCHEMA = {
    "candidate": pl.Int64, "area_km2": pl.Float64, "inside_county": pl.Boolean, "platforms_nearby": pl.Int64,
    "footprint": pl.String, "centre_lon": pl.Float64, "centre_lat": pl.Float64,
}


def _empty() -> pl.DataFrame:
    schema = {"candidate": pl.Int64, "industry": pl.String, "members": pl.UInt32, "county_code": pl.String,
              "counties": pl.UInt32, "srdi": pl.UInt32, "high_tech": pl.UInt32,
              "member_uscc": pl.List(pl.String), **{k: v for k, v in _GEO_SCHEMA.items() if k != "candidate"}}
    return pl.DataFrame(schema=schema)
