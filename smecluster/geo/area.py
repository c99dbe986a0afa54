"""Areas on the WGS-84 ellipsoid (pyproj.Geod), in km2."""

from __future__ import annotations

from functools import lru_cache

from pyproj import Geod
from shapely.geometry.base import BaseGeometry


@lru_cache(maxsize=1)
def _geod() -> Geod:
    return Geod(ellps="WGS84")


def area_km2(geometry: BaseGeometry) -> float:
    """Area of a lon/lat geometry on the ellipsoid, in km2 (orientation does not matter)."""
    area_m2, _perimeter = _geod().geometry_area_perimeter(geometry)
    return abs(area_m2) / 1e6
