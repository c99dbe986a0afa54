"""Geography services used by the CLI and the web: locate, specialisation, discovery, maps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import shapely
from sqlalchemy import Engine

from smecluster.analytics.snapshot import Snapshot, load_snapshot
from smecluster.geo.area import area_km2
from smecluster.geo.discover import DiscoveryParams, discover
from smecluster.geo.footprint import DEFAULT_TOLERANCE_M, containment, read_boundary
from smecluster.geo.specialisation import location_quotients
from smecluster.policy.pack import Pack, load_pack
from smecluster.policy.validity import cluster_date, held_rows
from smecluster.services.clusters import evaluate_snapshot, latest_year
from smecluster.settings import province


def specialisation(
    engine: Engine,
    year: int | None = None,
    level: str = "division",
    policy: str | None = None,
    chains: dict[str, list[str]] | None = None,
) -> pl.DataFrame:
    """County x industry location quotients and shares for the registry's year (newest if None),
    with the pillar-industry test of the recognition pack (`pillar`, `pillar_verified`).
    `chains` (chain name -> GB/T 4754 code prefixes) keys the table by chain instead of level."""
    snap = load_snapshot(engine)
    year = year or latest_year(engine)
    if year is None:
        raise ValueError("the registry has no yearly figures: load enterprises first")
    table = location_quotients(snap.frames["enterprise"], snap.frames["enterprise_year"], year, level, chains)
    return with_pillar_test(table, load_pack(policy or province().cluster_policy))


# The pack's indicators of the pillar test and the columns of the specialisation table they read.
PILLAR_INDICATORS = {
    "leading_output_share_county": "share_output",
    "leading_employment_share_county": "share_employment",
}


def with_pillar_test(table: pl.DataFrame, pack: Pack) -> pl.DataFrame:
    """`table` with `pillar`: every pillar criterion of the pack met by the county's industry shares.

    The thresholds are the pack's (a share of county output and of employment, where the pack has
    them); `pillar_verified` is False when any of them is marked UNVERIFIED in the pack.
    """
    tests = [c for c in pack.all_criteria() if c.indicator in PILLAR_INDICATORS and c.threshold is not None]
    if not tests:
        return table.with_columns(pl.lit(None, dtype=pl.Boolean).alias("pillar"), pl.lit(None).alias("pillar_verified"))
    compare = {">=": "ge", ">": "gt", "<=": "le", "<": "lt"}
    conditions = [
        getattr(pl.col(PILLAR_INDICATORS[c.indicator]), compare[c.comparator or ">="])(float(c.threshold))
        for c in tests
    ]
    return table.with_columns(
        pl.all_horizontal(conditions).fill_null(False).alias("pillar"),
        pl.lit(all(c.verified for c in tests)).alias("pillar_verified"),
    )


def discover_candidates(
    engine: Engine,
    industry: str | None = None,
    county: str | None = None,
    params: DiscoveryParams | None = None,
    year: int | None = None,
    policy: str | None = None,
) -> pl.DataFrame:
    """Candidate clusters from the registry's firm locations (see smecluster.geo.discover), each with
    its verdict under the recognition pack: `conditions_met`, `conditions` and `missing`."""
    params = params or DiscoveryParams()
    snap = load_snapshot(engine)
    year = year or latest_year(engine)
    lq = None
    if year is not None:
        lq = location_quotients(snap.frames["enterprise"], snap.frames["enterprise_year"], year, params.level)
    designation = snap.frames["designation"]
    if year is not None:  # the firms' designations valid on 31 December of the year (policy.validity)
        designation = held_rows(designation, cluster_date(year))
    found = discover(
        snap.frames["enterprise"],
        designation,
        snap.frames["platform"],
        lq,
        params,
        industry=industry,
        county=county,
        prefix=province().code[:2],
    )
    if year is None or found.is_empty():
        return found
    return found.join(candidate_verdicts(snap, found, year, policy), on="candidate", how="left")


def candidate_verdicts(snapshot: Snapshot, found: pl.DataFrame, year: int, policy: str | None = None) -> pl.DataFrame:
    """Evaluate candidates as if they applied: each becomes a cluster of its members, its leading
    industry its industry key and its boundary its footprint, under the province's cluster pack."""
    pack = load_pack(policy or province().cluster_policy)
    clusters = found.select(
        pl.col("candidate").alias("id"),
        pl.format("candidate-{}", pl.col("candidate")).alias("code"),
        pl.format("candidate {} ({})", pl.col("candidate"), pl.col("industry")).alias("name"),
        "county_code",
        pl.concat_list(pl.col("industry")).alias("leading_industries"),
        pl.col("footprint").alias("boundary_geojson"),
        pl.lit("{}").alias("declared"),
        pl.lit("candidate").alias("status"),
        pl.lit(year, dtype=pl.Int32).alias("year"),
    )
    members = found.select(pl.col("candidate").alias("cluster_id"), pl.col("member_uscc").alias("uscc")).explode("uscc")
    frames = {**snapshot.frames, "cluster": clusters, "cluster_member": members}
    rows = []
    for verdict in evaluate_snapshot(Snapshot(frames), pack, year):
        conditions = [c for c in verdict.criteria if c.role == "condition" and c.status != "not_assessed"]
        met = [c for c in conditions if c.status in ("pass", "warn")]
        missing = [c.id for c in conditions if c.status not in ("pass", "warn")]
        rows.append((verdict.cluster["id"], len(met), len(conditions), ", ".join(missing), verdict.outcome))
    schema = {
        "candidate": pl.Int64,
        "conditions_met": pl.Int64,
        "conditions": pl.Int64,
        "missing": pl.String,
        "outcome": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def candidates_geojson(found: pl.DataFrame) -> dict:
    """Candidates as a GeoJSON FeatureCollection (footprint geometry; figures and members as
    properties), for the web map and `discover --format geojson`."""
    features = []
    for row in found.to_dicts():
        geometry = json.loads(row.pop("footprint"))
        features.append({"type": "Feature", "geometry": geometry, "properties": row})
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class BoundaryCheck:
    """An uploaded boundary measured against its county."""

    area_km2: float
    inside: bool
    outside_km2: float
    tolerance_m: float
    warnings: list[str]
    geojson: str


def check_boundary(
    source: str | Path | bytes, county_code: str, crs: str = "wgs84", tolerance_m: float = DEFAULT_TOLERANCE_M
) -> BoundaryCheck:
    """Read an uploaded boundary (GeoJSON, KML/KMZ, zipped shapefile), its area in km2 on the ellipsoid
    and whether it stays inside county `county_code` (BoundaryError or KeyError when unusable)."""
    geometry, warnings = read_boundary(source, crs)
    result = containment(geometry, county_code, tolerance_m)
    return BoundaryCheck(
        round(area_km2(geometry), 3),
        result.inside,
        round(result.outside_km2, 3),
        tolerance_m,
        warnings,
        shapely.to_geojson(geometry),
    )


def read_chain_map(path: Path) -> dict[str, list[str]]:
    """A chain map from YAML: `chain name: [code prefix, ...]` (clear error naming the file)."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the chain map ({exc})") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, list) and v for v in raw.values()):
        raise ValueError(f"{path}: a chain map is a mapping of chain name to a list of GB/T 4754 code prefixes")
    return {str(k): [str(c) for c in v] for k, v in raw.items()}


def cluster_map(engine: Engine, cluster_id: int, members: bool = True) -> dict | None:
    """A cluster on its county map as GeoJSON: its footprint (the declared boundary, else the concave hull
    of its located members, as the verdict measures it: analytics/footprints.py) and, with `members`, each
    located member as a point flagged when it lies outside the county. None for an unknown cluster.

    Properties of the collection: cluster id, county code, footprint source (boundary | members_hull |
    None when neither can be drawn), its area in km², and how many members are located.
    """
    import numpy as np
    from sqlalchemy import select

    from smecluster.geo.footprint import BoundaryError, footprint_from_points, points_in_county
    from smecluster.registry.models import Cluster, ClusterMember, Enterprise

    with engine.connect() as c:
        found = c.execute(select(Cluster.county_code, Cluster.boundary_geojson)
                          .where(Cluster.id == cluster_id)).first()
        if found is None:
            return None
        located = c.execute(
            select(Enterprise.uscc, Enterprise.lon, Enterprise.lat)
            .join(ClusterMember, ClusterMember.uscc == Enterprise.uscc)
            .where(ClusterMember.cluster_id == cluster_id, Enterprise.lon.is_not(None), Enterprise.lat.is_not(None))
            .order_by(Enterprise.uscc)
        ).all()
    county, boundary = found
    lons = np.array([r.lon for r in located], dtype=np.float64)
    lats = np.array([r.lat for r in located], dtype=np.float64)
    geometry, source = None, None
    if boundary:
        try:
            geometry, _ = read_boundary(boundary)
            source = "boundary"
        except BoundaryError:
            geometry = None  # an unreadable boundary leaves the footprint to the members, as the verdict does
    if geometry is None and len(lons) >= 3:
        geometry, source = footprint_from_points(lons, lats), "members_hull"
    features = []
    if geometry is not None:
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geometry),
                         "properties": {"kind": "footprint", "source": source,
                                        "area_km2": round(area_km2(geometry), 3)}})
    if members and len(lons):  # one MultiPoint, its flags as arrays in the order of its points
        outside = ~points_in_county(lons, lats, county)
        features.append({"type": "Feature",
                         "geometry": {"type": "MultiPoint", "coordinates": np.column_stack([lons, lats]).tolist()},
                         "properties": {"kind": "members", "uscc": [r.uscc for r in located],
                                        "outside": outside.tolist()}})
    return {"type": "FeatureCollection", "cluster_id": cluster_id, "county_code": county,
            "footprint_source": source,
            "footprint_km2": None if geometry is None else round(area_km2(geometry), 3),
            "located_members": int(len(lons)), "features": features}
