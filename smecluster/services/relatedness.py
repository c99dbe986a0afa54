"""Relatedness for the CLI and the web: the registry's county x industry output matrix, aggregated in
the database, then the product-space measures (analytics.relatedness) over it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sqlalchemy import Engine

from smecluster.analytics.reader import read_frame
from smecluster.analytics.relatedness import Relatedness, growth_options, relatedness


@dataclass
class CountyMatrix:
    """The matrix and its labels."""

    year: int | None
    counties: list[str]
    industries: list[str]
    x: np.ndarray


CELLS_SQL = ("SELECT e.county_code, e.industry_code, SUM(y.output) AS output FROM enterprise e "
             "JOIN enterprise_year y ON y.uscc = e.uscc WHERE y.year = {year} AND y.output > 0 "
             "AND LENGTH(e.industry_code) = 4 GROUP BY e.county_code, e.industry_code")
CELLS_SCHEMA = {"county_code": pl.Utf8, "industry_code": pl.Utf8, "output": pl.Float64}


def county_industry_matrix(engine: Engine, year: int | None = None) -> CountyMatrix:
    """Output (万元) by county and 4-digit industry class in a year (default: the newest): on a
    province-sized registry from the columnar snapshot, the cells kept beside it; else from the database."""
    from smecluster.analytics.stored_snapshot import current_snapshot

    snapshot = current_snapshot(engine)
    if snapshot is not None:
        year = snapshot.newest_year() if year is None else year
        sql = CELLS_SQL.format(year=int(year or 0))

        def compute():
            con = snapshot.connect()
            try:
                return con.sql(sql + " ORDER BY e.county_code, e.industry_code").to_arrow_table()
            finally:
                con.close()

        cells = pl.from_arrow(snapshot.cached(f"related-cells-{int(year or 0)}", compute))
        return matrix_from_cells(cells.select([pl.col(c).cast(t) for c, t in CELLS_SCHEMA.items()]), year)
    return database_matrix(engine, year)


def database_matrix(engine: Engine, year: int | None = None) -> CountyMatrix:
    """`county_industry_matrix` from the database, whatever the registry's size."""
    if year is None:
        found = read_frame(engine, "SELECT MAX(year) AS y FROM enterprise_year")
        year = None if found.is_empty() or found["y"][0] is None else int(found["y"][0])
    cells = read_frame(engine, CELLS_SQL.format(year=int(year or 0)))
    schema = CELLS_SCHEMA
    if cells.width == 0:  # no row at all (no output in the year): the reader returns no columns
        cells = pl.DataFrame(schema=schema)
    cells = cells.select([pl.col(c).cast(t) for c, t in schema.items()])
    return matrix_from_cells(cells, year)


def matrix_from_cells(cells: pl.DataFrame, year: int | None = None) -> CountyMatrix:
    """A dense matrix from (county_code, industry_code, output) rows (no loop over rows: index scatter)."""
    counties = cells["county_code"].unique().sort()
    industries = cells["industry_code"].unique().sort()
    ci = cells["county_code"].cast(pl.Enum(counties)).to_physical().to_numpy()
    ii = cells["industry_code"].cast(pl.Enum(industries)).to_physical().to_numpy()
    x = np.zeros((len(counties), len(industries)))
    np.add.at(x, (ci, ii), cells["output"].to_numpy())
    return CountyMatrix(year, counties.to_list(), industries.to_list(), x)


def county_related(engine: Engine, county: str, top: int = 10, year: int | None = None) -> dict:
    """A county's complexity, its specialisations and the industries it is closest to growing into; for a
    county with no industrial output in the year, the empty answer (`empty_answer`). ValueError when the
    code is not a county of the region table."""
    mat = county_industry_matrix(engine, year)
    if county not in mat.counties:
        # a county of the region table with no output in the year: nothing to rank, an empty answer
        name = county_name(engine, county)
        if name is None:
            raise ValueError(f"no county with code {county!r} in the region table")
        return empty_answer(county, name, mat.year, len(mat.counties), len(mat.industries))
    return describe(engine, mat, relatedness(mat.x), county, top)


def county_name(engine: Engine, county: str) -> str | None:
    """The name of a county-level region (None when the code is not a county of the region table)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT name FROM region WHERE code = :c AND level = 'county'"),
                            {"c": county}).scalar()


def empty_answer(county: str, name: str | None, year: int | None, counties: int, industries: int) -> dict:
    """The answer for a county with no industrial output in the year: nothing to rank."""
    return {"county": {"code": county, "name": name}, "year": year, "counties": counties,
            "industries": industries, "eci": None, "eci_rank": None, "diversity": 0, "specialised": [],
            "options": []}


def describe(engine: Engine, mat: CountyMatrix, rel: Relatedness, county: str, top: int) -> dict:
    """The JSON-ready answer for one county."""
    names = dict(read_frame(engine, "SELECT code, name FROM industry").select(
        pl.col("code").cast(pl.Utf8), pl.col("name").cast(pl.Utf8)).iter_rows())
    regions = dict(read_frame(engine, "SELECT code, name FROM region").select(
        pl.col("code").cast(pl.Utf8), pl.col("name").cast(pl.Utf8)).iter_rows())
    c = mat.counties.index(county)
    eci = rel.eci
    ranked = np.argsort(-np.nan_to_num(eci, nan=-np.inf), kind="stable")
    rank = int(np.flatnonzero(ranked == c)[0]) + 1 if np.isfinite(eci[c]) else None
    special = np.flatnonzero(rel.m[c] == 1)
    special = special[np.argsort(-rel.rca[c, special], kind="stable")]
    return {
        "county": {"code": county, "name": regions.get(county)},
        "year": mat.year,
        "counties": len(mat.counties),
        "industries": len(mat.industries),
        "eci": None if not np.isfinite(eci[c]) else round(float(eci[c]), 4),
        "eci_rank": rank,
        "diversity": int(rel.diversity[c]),
        "specialised": [{"code": mat.industries[i], "name": names.get(mat.industries[i]),
                         "lq": round(float(rel.rca[c, i]), 3)} for i in special[:top]],
        "options": [{"code": mat.industries[i], "name": names.get(mat.industries[i]),
                     "density": round(float(rel.density[c, i]), 4),
                     "lq": round(float(np.nan_to_num(rel.rca[c, i])), 3),
                     "ubiquity": int(rel.ubiquity[i])} for i in growth_options(rel, c, top)],
    }
