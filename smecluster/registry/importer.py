"""Importing a registry file: read, check everything, then store all rows, the good rows, or none.

Modes: all-or-nothing (default: any problem and nothing is stored), dry run (check only) and skip
invalid (store the good rows; the rejected ones go to a CSV file with their reasons). Reference checks
and writing share one transaction, so a failure leaves the database exactly as it was.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from smecluster.registry.import_kinds import ImportKind, get_kind
from smecluster.registry.readers import ROW, ReadError, read_grid
from smecluster.registry.references import check_references
from smecluster.registry.store import Stored, upsert
from smecluster.registry.validate import Checked, check_grid, error_frame
from smecluster.safe_text import write_csv

REASON_COLUMN = "错误原因 reason"
ROW_COLUMN = "行号 row"


@dataclass
class ImportResult:
    """What an import found and did."""

    kind: str
    path: Path
    rows: int = 0  # data rows in the file
    stored: Stored = field(default_factory=Stored)
    rejected: int = 0  # rows not stored because of a problem
    errors: pl.DataFrame = field(default_factory=lambda: error_frame([]))
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    skip_invalid: bool = False
    rejected_path: Path | None = None
    encoding: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the file had no problem at all."""
        return self.errors.is_empty()

    @property
    def written(self) -> bool:
        """True when rows were (or, in a dry run, would have been) accepted."""
        return not self.dry_run and (self.ok or (self.skip_invalid and not self.file_level))

    @property
    def file_level(self) -> bool:
        """True when a problem concerns the whole file (missing column, empty file...)."""
        return self.errors["row"].null_count() > 0


def _db_frame(kind: ImportKind, checked: Checked, good: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Rows ready for the table, and the columns an update may change (those the file carries)."""
    plain = [c.field for c in checked.columns if not c.declared]
    declared = [c.field for c in checked.columns if c.declared]
    exprs = [pl.col(f) for f in plain]
    if declared:
        pieces = [
            pl.when(pl.col(f).is_not_null()).then(
                pl.format('"{}": {}', pl.lit(f.split(".", 1)[1]), pl.col(f))
            )
            for f in declared
        ]
        joined = pl.concat_list(pieces).list.drop_nulls().list.join(", ")
        exprs.append(pl.concat_str([pl.lit("{"), joined, pl.lit("}")]).alias("declared"))
    frame = good.select(exprs)
    update = [c for c in frame.columns if c not in kind.key]
    for name, value in kind.defaults.items():
        if name not in frame.columns:
            lit = json.dumps(value) if isinstance(value, dict | list) else value
            frame = frame.with_columns(pl.lit(lit).alias(name))
    return frame, update


def _write_rejected(checked: Checked, path: Path) -> int:
    """The rejected rows as typed, with their row number and every reason; returns how many."""
    reasons = (
        checked.errors.drop_nulls(ROW)
        .group_by(ROW)
        .agg(
            pl.format("{}: {}", pl.col("column").replace(checked.labels), "reason")
            .str.join("; ")
            .alias(REASON_COLUMN)
        )
    )
    rejected = checked.raw.join(reasons, on=ROW, how="inner").sort(ROW)
    rejected = rejected.rename({ROW: ROW_COLUMN, **checked.labels})  # headers as in the file
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(rejected, path, bom=True)  # a BOM so that Excel opens the UTF-8 file correctly
    return rejected.height


def import_file(
    engine: Engine,
    kind_name: str,
    path: str | Path,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejected_path: str | Path | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> ImportResult:
    """Check a file of `kind_name` and store it (all-or-nothing unless `skip_invalid`)."""
    kind = get_kind(kind_name)
    path = Path(path)
    result = ImportResult(kind.name, path, dry_run=dry_run, skip_invalid=skip_invalid)
    phase = on_phase or (lambda _name: None)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[name] = now - clock
        clock = now

    phase("reading")
    try:
        grid = read_grid(path)
    except ReadError as exc:
        result.errors = _with_file(error_frame([(None, None, None, str(exc))]), path)
        return result
    result.encoding = grid.encoding
    lap("read")
    phase("checking")
    checked = check_grid(grid, kind)
    result.rows, result.warnings = checked.raw.height, checked.warnings
    lap("check")
    with engine.begin() as conn:
        phase("checking references")
        check_references(conn, checked)
        lap("references")
        errors = checked.errors.with_columns(pl.col("column").replace(checked.labels))  # the user's words
        result.errors = _with_file(errors.sort(ROW, nulls_last=False), path)
        bad = checked.bad_rows()
        result.rejected = bad.len() if not checked.file_level() else result.rows
        if result.written:
            phase("storing")
            good = checked.typed.filter(~pl.col(ROW).is_in(bad.implode()))
            frame, update = _db_frame(kind, checked, good)
            changes = update if kind.on_conflict == "update" else []
            if conn.dialect.name == "postgresql":  # in the transaction that checked the references
                result.stored = upsert(conn, kind.table, frame, kind.key, changes)
    if result.written and engine.dialect.name != "postgresql":
        # SQLite writes through ADBC's own copy of the SQLite library (see store.py). POSIX locks
        # belong to the process, so no sqlite3 connection of this process may stay open meanwhile:
        # closing one copy's file would silently drop the other's locks.
        engine.dispose()
        result.stored = upsert(engine, kind.table, frame, kind.key, changes)
    if result.written:
        lap("store")
    if result.written and result.rejected and not checked.file_level():
        target = Path(rejected_path) if rejected_path else path.with_name(path.name + ".rejected.csv")
        _write_rejected(checked, target)
        result.rejected_path = target
    return result


def _with_file(errors: pl.DataFrame, path: Path) -> pl.DataFrame:
    """The error frame with the file name first and `row` as the user-facing name of the row number."""
    return errors.select(
        pl.lit(str(path)).alias("file"), pl.col(ROW).alias("row"), "column", "value", "reason"
    )
