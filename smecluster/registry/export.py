"""The registry as a folder of CSV files in the import formats: `smecluster export csv DIR`.

One file per import kind, named after the kind (so `smecluster import folder DIR` recognises it),
with the Chinese headers of import_kinds.yaml, UTF-8 with a BOM (Excel opens it), values written as
the importer reads them: choices by their Chinese label, yes/no as 是/否, code lists joined by `;`,
clusters referred to by code, numbers at full precision. Declared boundaries go to
`boundaries/<cluster code>.geojson`, named by `cluster_boundaries.csv`. Importing the folder into a
database holding the same regions reproduces every registry row (a test checks this on the demo).
Regions are reference data loaded by `smecluster db regions`, not exported.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, text

from smecluster.registry.folder import kind_order
from smecluster.registry.import_kinds import ColumnSpec, ImportKind, kinds
from smecluster.safe_text import write_csv

BOUNDARY_DIR = "boundaries"
_SAFE = re.compile(r"[^\w.-]+")


def _select(spec: ColumnSpec) -> str:
    """SQL giving one column as the text (or number) the CSV carries (the same on both dialects)."""
    f = spec.field
    if spec.references and spec.references.lookup:  # stored as the looked-up id: write the code
        ref = spec.references
        return f"(SELECT r.{ref.column} FROM {ref.table} r WHERE r.{ref.lookup} = t.{f}) AS {f}"
    if spec.type == "bool":
        return f"CASE WHEN t.{f} THEN '是' WHEN NOT t.{f} THEN '否' END AS {f}"
    if spec.type in ("date", "code_list", "boundary"):
        return f"CAST(t.{f} AS TEXT) AS {f}"
    return f"t.{f}"


def _frame(engine: Engine, kind: ImportKind) -> pl.DataFrame:
    """The kind's rows, one column per field (declared figures from the JSON), in key order."""
    plain = [c for c in kind.columns if not c.declared and c.store]
    cols = [_select(c) for c in plain]
    declared = [c for c in kind.columns if c.declared]
    if declared:
        cols.append("CAST(t.declared AS TEXT) AS declared")
    where = " WHERE t.boundary_geojson IS NOT NULL" if any(c.type == "boundary" for c in plain) else ""
    sql = f"SELECT {', '.join(cols)} FROM {kind.table} t{where}"
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).fetchall()
    names = [c.field for c in plain] + (["declared"] if declared else [])
    frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
    if declared:  # a few hundred clusters: the JSON is parsed per row
        parsed = [json.loads(d) if d else {} for d in frame["declared"].to_list()]
        for c in declared:
            key = c.field.split(".", 1)[1]
            frame = frame.with_columns(pl.Series(c.field, [d.get(key) for d in parsed], dtype=pl.Float64))
        frame = frame.drop("declared")
    return frame


def _as_csv_text(kind: ImportKind, frame: pl.DataFrame) -> pl.DataFrame:
    """Columns converted to what the importer reads, renamed to the Chinese headers."""
    exprs = []
    for c in kind.columns:
        if c.field not in frame.columns:
            continue
        col = pl.col(c.field)
        if c.type == "enum":
            labels = {code: words[0] for code, words in (c.values or {}).items()}
            col = col.cast(pl.String).replace_strict(labels, default=col.cast(pl.String))
        elif c.type == "code_list":
            col = col.cast(pl.String).str.json_decode(pl.List(pl.String)).list.join(";")
        elif c.type in ("int", "year"):
            col = col.cast(pl.Float64).cast(pl.Int64)
        elif c.type == "number":
            col = col.cast(pl.Float64)
        elif c.type == "date":
            col = col.cast(pl.String).str.slice(0, 10)
        exprs.append(col.alias(c.header))
    return frame.select(exprs)


def _write(frame: pl.DataFrame, path: Path) -> None:
    # Cells made safe for a spreadsheet (formula triggers quoted; the import drops the quote), and a
    # BOM so that Excel opens the UTF-8 file correctly.
    write_csv(frame, path, bom=True)


def _boundary_files(frame: pl.DataFrame, kind: ImportKind, directory: Path) -> pl.DataFrame:
    """Each boundary in its own GeoJSON file; the column then names the file."""
    key = next(c for c in kind.columns if c.references and c.references.lookup).field
    field = next(c for c in kind.columns if c.type == "boundary").field
    folder = directory / BOUNDARY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    names, used = [], set()
    for code, geojson in frame.select(key, field).iter_rows():  # one per cluster
        name = _SAFE.sub("_", str(code)) or "cluster"
        while name.lower() in used:
            name += "_"
        used.add(name.lower())
        (folder / f"{name}.geojson").write_text(geojson, encoding="utf-8")
        names.append(f"{BOUNDARY_DIR}/{name}.geojson")
    return frame.with_columns(pl.Series(field, names, dtype=pl.String))


def export_csv(engine: Engine, directory: str | Path) -> dict[str, int]:
    """Write every import kind's rows to DIRECTORY/<kind>.csv; returns rows written per kind.

    A kind with no rows gets no file (the import refuses a file with a header and no rows).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in kind_order():
        kind = kinds()[name]
        frame = _frame(engine, kind)
        if any(c.type == "boundary" for c in kind.columns):
            frame = _boundary_files(frame, kind, directory)
        counts[kind.name] = frame.height
        if frame.is_empty():  # no file for an empty table: the import refuses a file with no rows
            continue
        frame = frame.sort([c for c in kind.key if c in frame.columns])
        _write(_as_csv_text(kind, frame), directory / f"{kind.name}.csv")
    return counts
