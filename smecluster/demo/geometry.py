"""Random points inside counties and parks, vectorised (rejection sampling with shapely.contains_xy)."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

M_PER_DEG_LAT = 111_320.0


def points_in(geom: BaseGeometry, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`n` uniform random points inside a polygon (lon, lat arrays)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    lons, lats = np.empty(0), np.empty(0)
    while len(lons) < n:
        k = max(2 * (n - len(lons)), 64)
        x = rng.uniform(minx, maxx, k)
        y = rng.uniform(miny, maxy, k)
        inside = shapely.contains_xy(geom, x, y)
        lons, lats = np.concatenate([lons, x[inside]]), np.concatenate([lats, y[inside]])
    return lons[:n], lats[:n]


def park_centre(geom: BaseGeometry) -> tuple[float, float]:
    """A park centre deep inside the county (pole of inaccessibility of its largest part)."""
    parts = getattr(geom, "geoms", [geom])
    largest = max(parts, key=lambda g: g.area)
    centre = polylabel(largest, tolerance=0.001)
    return centre.x, centre.y


def park_polygon(lon: float, lat: float, radius_km: float) -> BaseGeometry:
    """A circular park of `radius_km` around a centre, as a lon/lat polygon."""
    dlat = radius_km * 1000 / M_PER_DEG_LAT
    dlon = dlat / np.cos(np.radians(lat))
    angles = np.linspace(0, 2 * np.pi, 65)
    return shapely.Polygon(np.column_stack([lon + dlon * np.cos(angles), lat + dlat * np.sin(angles)]))


def points_in_park(
    county: BaseGeometry, lon: float, lat: float, radius_km: float, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`n` points inside both the park circle and the county."""
    park = park_polygon(lon, lat, radius_km).intersection(county)
    return points_in(park, n, rng)
