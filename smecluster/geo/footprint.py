"""A cluster's footprint: drawn from its members' locations, and tested against its county.

Methods of `footprint_from_points` (computed in metres in a local equal-area projection, returned in
WGS-84 lon/lat; docs/decisions/0403-footprint-method.md):

- "concave" (default): the concave hull of the member points (shapely/GEOS `concave_hull`);
  `param` is the ratio in [0, 1] (0 = tightest, 1 = convex hull), default 0.3. The hull runs
  through the outermost members, so it measures the ground they cover, not a fenced park.
- "buffer": the union of discs of radius `param` metres (default 300) around the members.
- "convex": the convex hull (no parameter).

Fewer than three distinct points (or all on a line) cannot span an area with a hull; those fall back
to "buffer" with the default radius, so every footprint is a polygon.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry.base import BaseGeometry

from smecluster.geo.area import area_km2
from smecluster.geo.counties import county_geometries
from smecluster.geo.projection import LocalProjection

METHODS = ("concave", "buffer", "convex")
DEFAULT_RATIO = 0.3
DEFAULT_BUFFER_M = 300.0
# The county boundaries are generalised (median segment about 1.5 km); a footprint may poke this
# far past a county line and still count as inside it.
DEFAULT_TOLERANCE_M = 300.0


def footprint_from_points(
    lons: ArrayLike, lats: ArrayLike, method: str = "concave", param: float | None = None
) -> BaseGeometry:
    """Footprint polygon (WGS-84) of member points by `method` with `param` (see the module doc)."""
    if method not in METHODS:
        raise ValueError(f"unknown footprint method {method!r}: use one of {', '.join(METHODS)}")
    x = np.asarray(lons, dtype=np.float64)
    y = np.asarray(lats, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise ValueError("no member has coordinates: cannot draw a footprint")
    proj = LocalProjection.around(x[ok], y[ok])
    mx, my = proj.forward(x[ok], y[ok])
    points = shapely.multipoints(np.column_stack([mx, my]))
    if method == "concave":
        shape = shapely.concave_hull(points, ratio=DEFAULT_RATIO if param is None else float(param))
    elif method == "convex":
        shape = shapely.convex_hull(points)
    else:
        shape = shapely.buffer(points, DEFAULT_BUFFER_M if param is None else float(param))
    if shape.area <= 0:  # a point or a line: no hull has area
        shape = shapely.buffer(points, DEFAULT_BUFFER_M if method != "buffer" else float(param or 0) or 1.0)
    return proj.to_lonlat(shapely.make_valid(shape))


@dataclass(frozen=True)
class Containment:
    """How a footprint sits in its county."""

    inside: bool  # within the county grown by the tolerance
    outside_km2: float  # footprint area outside the county itself
    tolerance_m: float


def county_geometry(county_code: str) -> BaseGeometry:
    """The boundary polygon of one county (KeyError with a clear message if unknown)."""
    geometries = county_geometries(county_code[:2])
    if county_code not in geometries:
        raise KeyError(f"no boundary for county {county_code!r} in the boundary data")
    return geometries[county_code]


def containment(
    footprint: BaseGeometry, county_code: str, tolerance_m: float = DEFAULT_TOLERANCE_M
) -> Containment:
    """Whether `footprint` lies inside county `county_code`, allowing `tolerance_m` metres."""
    proj, cm, grown = _metric_county(county_code, tolerance_m)
    fm = proj.to_metric(footprint)
    outside = shapely.difference(fm, cm)
    return Containment(bool(shapely.within(fm, grown)), outside.area / 1e6, tolerance_m)


@lru_cache(maxsize=256)
def _metric_county(
    county_code: str, tolerance_m: float
) -> tuple[LocalProjection, BaseGeometry, BaseGeometry]:
    """A county in metres around its own centre, and the same grown by the tolerance (prepared)."""
    county = county_geometry(county_code)
    c = county.centroid
    proj = LocalProjection(round(c.x, 2), round(c.y, 2))
    cm = proj.to_metric(county)
    grown = shapely.buffer(cm, tolerance_m) if tolerance_m > 0 else cm
    shapely.prepare(grown)
    return proj, cm, grown


def points_in_county(
    lons: ArrayLike, lats: ArrayLike, county_code: str, tolerance_m: float = DEFAULT_TOLERANCE_M
) -> np.ndarray:
    """True for each point inside county `county_code` or within `tolerance_m` metres of it."""
    x = np.asarray(lons, dtype=np.float64)
    y = np.asarray(lats, dtype=np.float64)
    county = county_geometry(county_code)
    shapely.prepare(county)
    inside = shapely.intersects_xy(county, x, y)
    rest = np.flatnonzero(~inside & np.isfinite(x) & np.isfinite(y))
    if rest.size and tolerance_m > 0:
        c = county.centroid
        proj = LocalProjection(round(c.x, 2), round(c.y, 2))
        px, py = proj.forward(x[rest], y[rest])
        near = shapely.dwithin(proj.to_metric(county), shapely.points(px, py), tolerance_m)
        inside[rest[near]] = True
    return inside


def footprint_km2(geometry: BaseGeometry) -> float:
    """Area of a footprint in km2 on the WGS-84 ellipsoid."""
    return area_km2(geometry)


# Uploaded boundaries are read by smecluster.geo.boundary; exposed here for callers of footprints.
from smecluster.geo.boundary import BoundaryError, read_boundary  # noqa: E402

__all__ = [
    "BoundaryError",
    "Containment",
    "containment",
    "footprint_from_points",
    "footprint_km2",
    "points_in_county",
    "read_boundary",
]
