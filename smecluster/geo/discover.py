"""Discovery of clusters that are forming: density-based clustering of firm locations per industry.

Method (docs/decisions/0404-discovery-dbscan.md): firms are projected to metres (a local equal-area
projection), snapped to a `grid_m` grid and, per industry key (GB/T 4754 division by default),
clustered with DBSCAN (`dbscan_weighted`, same result as scikit-learn's with sample_weight)
on the occupied grid cells weighted by their firm counts. A
group of at least `min_members` firms becomes a candidate. DBSCAN's density threshold is
`min_samples` firms within `eps_m` metres, raised where an industry is common everywhere to
`density_factor` times the firms its average density puts in such a disc (so that an industry
spread over a whole province does not turn into one giant candidate), and raised for thin
industries to a count that random scatter reaches in a disc with probability below `chance`
over the whole province (so that chance clumps of a rare industry are not candidates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import shapely
from scipy import ndimage, sparse, stats
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

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
    chance: float = 0.01  # share of an industry's runs allowed one chance clump (see density_threshold)
    grid_m: float = 50.0
    level: str = "division"
    footprint_method: str = "concave"
    platform_near_m: float = 1000.0


OCCUPIED_CELL_M = 5000.0


def _occupied_km2(x: np.ndarray, y: np.ndarray) -> float:
    """Land the registry occupies: the area of the 5 km cells holding any firm (all industries).

    An industry's background density is its firm count over this area, not over the bounding box,
    which for a coastal province is mostly sea and neighbouring provinces.
    """
    cells = np.unique(np.floor(x / OCCUPIED_CELL_M) * 1e7 + np.floor(y / OCCUPIED_CELL_M))
    return max(len(cells) * (OCCUPIED_CELL_M / 1000.0) ** 2, 1.0)


def _dense_enough(x: np.ndarray, y: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """Mask of the points DBSCAN can use: those within reach of a possible core point.

    With cells of side eps, every eps-neighbour of a point lies in the 3 x 3 cells around its own
    cell. A point can be core only if that 3 x 3 block holds at least min_samples firms, and a
    point can be in a cluster only if it lies in the 3 x 3 block of such a cell. Dropping the rest
    changes no DBSCAN label and leaves only the dense parts of the map to cluster.
    """
    ix = np.floor((x - x.min()) / eps).astype(np.int64) + 1
    iy = np.floor((y - y.min()) / eps).astype(np.int64) + 1
    counts = np.zeros((iy.max() + 2, ix.max() + 2), dtype=np.int32)
    np.add.at(counts, (iy, ix), 1)
    block = ndimage.uniform_filter(counts.astype(np.float32), size=3, mode="constant") * 9
    possible_core = (block >= min_samples - 0.5) & (counts > 0)
    reach = ndimage.binary_dilation(possible_core, structure=np.ones((3, 3), dtype=bool))
    return reach[iy, ix]


def density_threshold(firms: int, extent_km2: float, params: DiscoveryParams) -> int:
    """DBSCAN's min_samples for an industry of `firms` firms spread over `extent_km2`.

    The largest of: the floor `min_samples`; `density_factor` times the firms an eps disc holds at
    the industry's average density; and the count that a disc reaches by chance (Poisson) in fewer
    than `chance` of the province's discs, so that a thin industry does not make chance clumps.
    """
    disc_km2 = np.pi * (params.eps_m / 1000.0) ** 2
    expected = firms / max(extent_km2, 1e-9) * disc_km2
    discs = max(extent_km2 / disc_km2, 1.0)
    by_chance = int(stats.poisson.isf(params.chance / discs, expected)) + 1
    return max(params.min_samples, int(np.ceil(params.density_factor * expected)), by_chance)


def _labels(x: np.ndarray, y: np.ndarray, params: DiscoveryParams, extent_km2: float) -> np.ndarray:
    """DBSCAN labels (-1 noise) of one industry's firms, on grid-snapped weighted cells."""
    min_samples = density_threshold(len(x), extent_km2, params)
    labels = np.full(len(x), -1, dtype=np.int64)
    keep = np.flatnonzero(_dense_enough(x, y, params.eps_m, min_samples))
    if len(keep) < params.min_members:
        return labels
    cells = np.column_stack([np.round(x[keep] / params.grid_m), np.round(y[keep] / params.grid_m)])
    unique, inverse, counts = np.unique(cells.astype(np.int64), axis=0, return_inverse=True, return_counts=True)
    cell_labels = dbscan_weighted(unique * params.grid_m, counts, params.eps_m, min_samples)
    labels[keep] = cell_labels[inverse.ravel()]
    return labels


def dbscan_weighted(points: np.ndarray, weight: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """DBSCAN of weighted points (labels, -1 for noise), as in scikit-learn with `sample_weight`.

    A point is core when the weights within `eps` (itself included) reach `min_samples`; clusters
    are the connected components of core points linked within `eps`; a border point joins the
    cluster of a core neighbour. Written on a KD-tree's pair list and a sparse graph so that every
    step runs in compiled code (scikit-learn sums weights in a Python loop, too slow at millions).
    """
    n = len(points)
    pairs = cKDTree(points).query_pairs(eps, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    total = weight.astype(np.float64) + np.bincount(i, weight[j], n) + np.bincount(j, weight[i], n)
    core = total >= min_samples
    labels = np.full(n, -1, dtype=np.int64)
    if not core.any():
        return labels
    both = core[i] & core[j]
    graph = sparse.coo_matrix((np.ones(int(both.sum()), dtype=np.int8), (i[both], j[both])), shape=(n, n))
    _, component = csgraph.connected_components(graph, directed=False)
    _, labels_core = np.unique(component[core], return_inverse=True)
    labels[core] = labels_core
    # Border points: non-core with a core neighbour take that neighbour's cluster.
    for a, b in ((i, j), (j, i)):
        edge = core[a] & ~core[b]
        labels[b[edge]] = labels[a[edge]]
    return labels


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
    extent_km2 = _occupied_km2(x, y)
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
        pl.Series(
            "located_county",
            assign_counties(members["lon"].to_numpy(), members["lat"].to_numpy(), prefix),
            dtype=pl.String,
        )
    )
    return _summarise(members, firms, designation, platform, lq, params, county)


def _summarise(members, firms, designation, platform, lq, params, county) -> pl.DataFrame:
    srdi = set()
    high_tech = set()
    if designation is not None and not designation.is_empty():
        srdi = set(designation.filter(pl.col("kind").is_in(SRDI_KINDS))["uscc"].to_list())
        high_tech = set(designation.filter(pl.col("kind") == "high_tech")["uscc"].to_list())
    members = members.with_columns(
        pl.col("uscc").is_in(list(srdi)).alias("srdi"),
        pl.col("uscc").is_in(list(high_tech)).alias("high_tech"),
    )
    hosts = None
    if platform is not None and not platform.is_empty():
        hosts = platform.filter(pl.col("level").is_in(PLATFORM_LEVELS) & pl.col("host_uscc").is_not_null()).join(
            firms.select(pl.col("uscc").alias("host_uscc"), "lon", "lat").unique("host_uscc"), on="host_uscc"
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
                "candidate": row["candidate"],
                "area_km2": round(area_km2(fp), 3),
                "inside_county": inside,
                "platforms_nearby": near,
                "footprint": shapely.to_geojson(shapely.set_precision(fp, 1e-6)),
                "centre_lon": float(np.mean(row["lon"])),
                "centre_lat": float(np.mean(row["lat"])),
            }
        )
    geo = pl.DataFrame(rows, schema=_GEO_SCHEMA)
    out = stats.drop("lon", "lat").join(geo, on="candidate").rename({"uscc": "member_uscc"})
    if lq is not None and not lq.is_empty():
        cols = [c for c in ("lq_firms", "lq_employment", "lq_output", "share_output") if c in lq.columns]
        out = out.join(lq.select("county_code", "industry", *cols), on=["county_code", "industry"], how="left")
    return out.sort(["members", "candidate"], descending=[True, False])


_GEO_SCHEMA = {
    "candidate": pl.Int64,
    "area_km2": pl.Float64,
    "inside_county": pl.Boolean,
    "platforms_nearby": pl.Int64,
    "footprint": pl.String,
    "centre_lon": pl.Float64,
    "centre_lat": pl.Float64,
}


def _empty() -> pl.DataFrame:
    schema = {
        "candidate": pl.Int64,
        "industry": pl.String,
        "members": pl.UInt32,
        "county_code": pl.String,
        "counties": pl.UInt32,
        "srdi": pl.UInt32,
        "high_tech": pl.UInt32,
        "member_uscc": pl.List(pl.String),
        **{k: v for k, v in _GEO_SCHEMA.items() if k != "candidate"},
    }
    return pl.DataFrame(schema=schema)
