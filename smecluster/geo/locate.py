"""Locate registry rows: add province, city and county columns from longitude and latitude.

Works on whole Polars frames: the conversion to WGS-84 and the county lookup are array operations
(see smecluster.geo.assign), and names are joined from a small code table.
"""

from __future__ import annotations

import polars as pl

from smecluster.geo.assign import DEFAULT_CELL_DEG, assign_counties
from smecluster.geo.crs import rows_to_wgs84, to_wgs84
from smecluster.geo.divisions import division_names, parents

LOCATED_COLUMNS = (
    "province_code",
    "province_name",
    "city_code",
    "city_name",
    "county_code",
    "county_name",
)


def _code_table(codes: list[str], output_prefix: str) -> pl.DataFrame:
    """One row per county code found: the code and its province, city and county names."""
    names = division_names()
    rows = []
    for code in codes:
        province, city = parents(code)
        rows.append((code, province, names.get(province), city, names.get(city), code, names.get(code)))
    schema = {"_county": pl.String, **{output_prefix + c: pl.String for c in LOCATED_COLUMNS}}
    return pl.DataFrame(rows, schema=schema, orient="row")


def locate_frame(
    frame: pl.DataFrame,
    lon: str = "lon",
    lat: str = "lat",
    crs: str = "wgs84",
    prefix: str | None = None,
    prefix_cell: float = DEFAULT_CELL_DEG,
    output_prefix: str = "",
    crs_column: str | None = None,
) -> pl.DataFrame:
    """`frame` with province/city/county code and name columns added (null where no county).

    Coordinates in `crs` (or, row by row, in the system named in column `crs_column`; empty cells
    fall back to `crs`) are converted to WGS-84 first; `prefix` limits the counties searched (e.g.
    '32' for Jiangsu), which makes the index smaller and faster. `output_prefix` prefixes the new
    column names (e.g. 'located_' to keep a registered `county_code` column apart).
    """
    clash = [output_prefix + c for c in LOCATED_COLUMNS if output_prefix + c in frame.columns]
    if clash:
        raise ValueError(f"the input already has column(s) {', '.join(clash)}: choose another output prefix")
    for col in (lon, lat):
        if col not in frame.columns:
            raise ValueError(f"column {col!r} is missing (columns: {', '.join(frame.columns)})")
    lons = frame[lon].cast(pl.Float64, strict=False).to_numpy()
    lats = frame[lat].cast(pl.Float64, strict=False).to_numpy()
    if crs_column:
        if crs_column not in frame.columns:
            raise ValueError(f"column {crs_column!r} is missing (columns: {', '.join(frame.columns)})")
        x, y = rows_to_wgs84(lons, lats, frame[crs_column].cast(pl.String).fill_null(crs).to_numpy())
    else:
        x, y = to_wgs84(lons, lats, crs)
    codes = assign_counties(x, y, prefix, prefix_cell if prefix else 2 * prefix_cell)
    located = pl.Series("_county", codes, dtype=pl.String)
    table = _code_table(located.drop_nulls().unique().to_list(), output_prefix)
    out = (
        frame.with_row_index("_row")
        .with_columns(located)
        .join(table, on="_county", how="left")
        .sort("_row")
        .drop("_row", "_county")
    )
    return out


def flag_county_mismatch(
    registry: pl.DataFrame,
    registered: str = "county_code",
    lon: str = "lon",
    lat: str = "lat",
    crs: str = "wgs84",
    prefix: str | None = None,
) -> pl.DataFrame:
    """The registry with `located_county_code` and `county_mismatch` (True where the registered county
    differs from the county at the firm's location; null where the firm has no usable location)."""
    located = locate_frame(registry, lon, lat, crs, prefix, output_prefix="located_")
    return located.with_columns(
        pl.when(pl.col("located_county_code").is_null())
        .then(None)
        .otherwise(pl.col(registered).cast(pl.String) != pl.col("located_county_code"))
        .alias("county_mismatch")
    )


def coordinate_problems(frame: pl.DataFrame, lon: str = "lon", lat: str = "lat", limit: int = 20) -> list[str]:
    """Rows whose coordinates cannot be used, as 'row N, column C: reason' (rows counted from 1,
    the header not included); at most `limit` messages."""
    problems: list[str] = []
    for col, bound in ((lon, 180.0), (lat, 90.0)):
        raw = frame[col]
        number = raw.cast(pl.Float64, strict=False)
        bad_text = raw.is_not_null() & number.is_null()
        out_of_range = number.abs() > bound
        for row in (bad_text | out_of_range.fill_null(False)).arg_true().head(limit).to_list():
            value = raw[row]
            reason = "is not a number" if number[row] is None else f"is outside -{bound:g}..{bound:g}"
            problems.append(f"row {row + 1}, column {col}: {value!r} {reason}")
    return sorted(problems, key=lambda m: int(m.split(",")[0][4:]))[:limit]
