"""Cluster footprints and member locations, from the geo package, one cluster at a time.

Per cluster: the footprint is the declared boundary (read and repaired by geo.boundary) or else
the concave hull of the located members (geo.footprint, method documented there); each located
member is tested against the cluster's county with the geo package's tolerance. The loop runs
over clusters (a few hundred), never over enterprises: each step works on a cluster's whole arrays.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from smecluster.analytics.snapshot import Snapshot
from smecluster.geo.area import area_km2
from smecluster.geo.footprint import BoundaryError, footprint_from_points, points_in_county, read_boundary

FOOTPRINT_DETAIL = {
    "cluster_id": pl.Int64, "boundary_km2": pl.Float64, "hull_km2": pl.Float64, "located": pl.Int64,
    "footprint_source": pl.String,
}


def cluster_geography(snapshot: Snapshot) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(cluster_id, footprint_km2) per cluster and (cluster_id, uscc, located_outside) per located member.

    A footprint is NULL when the cluster has no usable boundary and fewer than 3 located members.
    Both areas, the declared boundary's and the members' hull, go to snapshot.extra["footprint_detail"]
    (FOOTPRINT_DETAIL columns; footprint_source: boundary | members_hull | null) so that a verdict can
    show the one not used too.
    """
    clusters = snapshot.frames["cluster"].select("id", "county_code", "boundary_geojson")
    members = (
        snapshot.frames["cluster_member"]
        .join(snapshot.frames["enterprise"].select("uscc", "lon", "lat"), on="uscc", how="inner")
        .drop_nulls(["lon", "lat"])
    )
    by_cluster = members.partition_by("cluster_id", as_dict=True)
    areas, flags, detail = [], [], []
    for cid, county, boundary in clusters.iter_rows():
        pts = by_cluster.get((cid,), members.clear())
        lons, lats = pts["lon"].to_numpy(), pts["lat"].to_numpy()
        geometry = None
        if boundary:
            try:
                geometry, _warnings = read_boundary(boundary)
            except BoundaryError:
                geometry = None  # an unreadable boundary leaves the footprint to the members
        boundary_km2 = None if geometry is None else area_km2(geometry)
        hull_km2 = area_km2(footprint_from_points(lons, lats)) if len(lons) >= 3 else None
        source = "boundary" if boundary_km2 is not None else ("members_hull" if hull_km2 is not None else None)
        detail.append((cid, boundary_km2, hull_km2, len(lons), source))
        areas.append(boundary_km2 if boundary_km2 is not None else hull_km2)
        if len(lons):
            outside = ~points_in_county(lons, lats, county)
            flags.append(pl.DataFrame({"cluster_id": np.full(len(lons), cid), "uscc": pts["uscc"],
                                       "located_outside": outside}))
    footprints = pl.DataFrame(
        {"cluster_id": clusters["id"], "footprint_km2": areas},
        schema={"cluster_id": pl.Int64, "footprint_km2": pl.Float64},
    )
    snapshot.extra["footprint_detail"] = pl.DataFrame(detail, schema=FOOTPRINT_DETAIL, orient="row")
    schema = {"cluster_id": pl.Int64, "uscc": pl.Utf8, "located_outside": pl.Boolean}
    located = pl.concat(flags).cast(schema) if flags else pl.DataFrame(schema=schema)
    return footprints, located
