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
    clusters = snapshot.frames["cluster"].select("id", "boundary_geojson")
    points = (
        snapshot.frames["cluster_member"]
        .join(snapshot.frames["enterprise"].select("uscc", "lon", "lat"), on="uscc", how="inner")
        .drop_nulls(["lon", "lat"])
        .join(clusters.filter(pl.col("boundary_geojson").is_null()).select(pl.col("id").alias("cluster_id")),
              on="cluster_id")
        .sort("cluster_id")
    )
    # Hulls of all clusters at once: shapely builds one multipoint per cluster from an index array.
    ids, starts = np.unique(points["cluster_id"].to_numpy(), return_index=True)
    counts = np.diff(np.append(starts, points.height))
    drawn = {}
    if len(ids):
        index = np.repeat(np.arange(len(ids)), counts)
        coords = np.column_stack([points["lon"].to_numpy(), points["lat"].to_numpy()])
        hulls = shapely.convex_hull(shapely.multipoints(coords, indices=index))
        lat0 = np.array([points["lat"][int(s):int(s + c)].mean() for s, c in zip(starts, counts, strict=True)])
        widths = HULL_BUFFER_M / (111_320.0 * np.maximum(np.cos(np.radians(lat0)), 0.1))
        shapes = shapely.buffer(hulls, widths)
        drawn = {int(i): (area_km2(g) if n >= 3 else None) for i, g, n in zip(ids, shapes, counts, strict=True)}
    areas = []
    # One iteration per cluster (a few hundred at most), never per enterprise.
    for cid, boundary in clusters.iter_rows():
        if boundary:
            raw = json.loads(boundary)
            areas.append(area_km2(shape(raw.get("geometry", raw)) if raw.get("type") == "Feature" else shape(raw)))
        else:
            areas.append(drawn.get(cid))
    return pl.DataFrame(
        {"cluster_id": clusters["id"], "footprint_km2": areas},
        schema={"cluster_id": pl.Int64, "footprint_km2": pl.Float64},
    )
