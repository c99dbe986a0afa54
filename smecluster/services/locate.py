"""Locate the rows of a CSV (the `locate` command): kept apart from services.geography so the command
imports only what it uses (Polars, shapely and the county index), not discovery's SciPy stack."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from smecluster.geo.locate import LOCATED_COLUMNS, coordinate_problems, locate_frame
from smecluster.safe_text import write_csv


def locate_csv(
    source: Path,
    target: Path,
    crs: str = "wgs84",
    lon: str = "lon",
    lat: str = "lat",
    prefix: str | None = None,
    crs_column: str | None = None,
) -> tuple[int, int, list[str]]:
    """Write `source` with province/city/county code and name columns to `target`.

    Returns (rows, rows located, problems): problems name the rows whose coordinates are unusable
    (they are written with empty location columns). If the CSV already has a located column name,
    the new columns are prefixed 'located_'.
    """
    try:
        frame = pl.read_csv(source, infer_schema_length=10_000)
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise ValueError(f"{source}: cannot read as CSV ({exc})") from exc
    clash = any(c in frame.columns for c in LOCATED_COLUMNS)
    out = locate_frame(frame, lon, lat, crs, prefix, output_prefix="located_" if clash else "", crs_column=crs_column)
    key = ("located_" if clash else "") + "county_code"
    write_csv(out, target)  # the user's own columns pass through: neutralise formulas
    return out.height, out.height - out[key].null_count(), coordinate_problems(frame, lon, lat)
