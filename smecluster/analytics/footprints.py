"""Cluster footprints: the declared boundary's area, else the area drawn around member locations."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import shapely
from shapely.geometry import shape

from smecluster.analytics.snapshot import Snapshot
from smecluster.geo.area import area_km2

# Members' points are wrapped in their convex hull, widened by this buffer (metres) so that a
# cluster of a few firms still has a plausible site area.
HULL_BUFFER_M = 200.0


def footprint_from_members(lons: np.ndarray, lats: np.ndarray) -> shapely.Geometry | None:
    """Convex hull of member points plus a small buffer; None with fewer than 3 located members."""
    ok = ~(np.isnan(lons) | np.isnan(lats))
    if ok.sum() < 3:
        return None
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([lons[ok], lats[ok]])))
    # Buffer in degrees, scaled at the cluster's latitude (a few hundred metres: error negligible).
    lat0 = float(np.nanmean(lats[ok]))
    deg = HULL_BUFFER_M / (111_320.0 * max(np.cos(np.radians(lat0)), 0.1))
    return hull.buffer(deg)


def cluster_footprints(snapshot: Snapshot) -> pl.DataFrame:
    """cluster_id, footprint_km2 for every cluster (NULL when neither boundary nor locations exist)."""
    clusters = snapshot.frames["cluster"]
    members = snapshot.frames["cluster_member"].join(
        snapshot.frames["enterprise"].select("uscc", "lon", "lat"), on="uscc", how="left"
    )
    by_cluster = members.partition_by("cluster_id", as_dict=True)
    ids, areas = [], []
    # One iteration per cluster (a few hundred at most), not per enterprise.
    for cid, boundary in clusters.select("id", "boundary_geojson").iter_rows():
        geom = None
        if boundary:
            raw = json.loads(boundary)
            geom = shape(raw.get("geometry", raw)) if raw.get("type") == "Feature" else shape(raw)
        else:
            pts = by_cluster.get((cid,), members.clear())
            geom = footprint_from_members(
                pts["lon"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                pts["lat"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
            )
        ids.append(cid)
        areas.append(None if geom is None else area_km2(geom))
    return pl.DataFrame({"cluster_id": ids, "footprint_km2": areas}, schema={
        "cluster_id": pl.Int64, "footprint_km2": pl.Float64})
