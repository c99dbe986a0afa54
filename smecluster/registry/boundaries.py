"""Declared cluster boundaries in an import: each cell names a boundary file or holds GeoJSON text.

Read by smecluster.geo.boundary (GeoJSON, KML/KMZ, zipped shapefile; repaired where invalid). GeoJSON
in WGS-84 is stored as given (every evaluation reads it through the same reader, so a repair is
applied there too); KML, shapefiles and drawings in GCJ-02 or BD-09 are stored as the WGS-84 GeoJSON
of what was read. A boundary that cannot be read is an error of its row; a repair or re-orientation
is a notice. The loop runs over the file's rows: one per cluster, a few hundred at most.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from smecluster.registry.readers import ROW
from smecluster.registry.validate import ERROR_SCHEMA, Checked, error_frame

GEOJSON_SUFFIXES = (".geojson", ".json")


def _source(value: str, base: Path) -> tuple[str | Path, str | None]:
    """What read_boundary gets, and the GeoJSON text as given (None when not GeoJSON)."""
    text = value.strip()
    if text.startswith("{"):
        return text, text
    if text.startswith("<"):
        return text, None
    path = Path(text)
    path = path if path.is_absolute() else base / path
    if path.suffix.lower() in GEOJSON_SUFFIXES and path.is_file():
        return path, path.read_text(encoding="utf-8-sig").strip()
    return path, None


def boundary_geojson(value: str, base: Path, crs: str | None = None) -> tuple[str, list[str]]:
    """The GeoJSON to store for a boundary cell (file name or text) and the reader's warnings.

    Raises BoundaryError (or OSError) when the boundary cannot be read.
    """
    import shapely

    from smecluster.geo.boundary import read_boundary

    source, given = _source(value, base)
    geometry, warnings = read_boundary(source, crs or "wgs84")
    keep = given is not None and (crs or "wgs84") == "wgs84"
    return (given if keep else shapely.to_geojson(geometry)), warnings


def resolve_boundaries(checked: Checked, base: Path) -> None:
    """Replace each boundary cell of `checked` by the GeoJSON to store; errors and notices per row."""
    specs = [c for c in checked.columns if c.type == "boundary"]
    if not specs or checked.file_level() or checked.typed.is_empty():
        return
    from smecluster.geo.boundary import BoundaryError

    typed = checked.typed
    crs = typed["crs"].to_list() if "crs" in typed.columns else [None] * typed.height
    bad = set(checked.bad_rows().to_list())
    for spec in specs:
        stored: list[str | None] = []
        errors, notices = [], []
        for row, value, system in zip(typed[ROW].to_list(), typed[spec.field].to_list(), crs, strict=True):
            if value is None or row in bad:
                stored.append(None)
                continue
            try:
                geojson, warnings = boundary_geojson(value, base, system)
            except (BoundaryError, OSError, ValueError) as exc:
                errors.append((row, spec.header, value[:200], str(exc)))
                stored.append(None)
                continue
            notices += [(row, spec.header, value[:200], w) for w in warnings]
            stored.append(geojson)
        typed = typed.with_columns(pl.Series(spec.field, stored, dtype=pl.String))
        checked.add_errors(error_frame(errors))
        checked.notices = pl.concat([checked.notices, error_frame(notices).cast(ERROR_SCHEMA)])
    checked.typed = typed
