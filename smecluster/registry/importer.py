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

from smecluster.registry.boundaries import resolve_boundaries
from smecluster.registry.import_kinds import ImportKind, get_kind
from smecluster.registry.readers import ROW, Grid, ReadError, read_grid
from smecluster.registry.references import check_references
from smecluster.registry.store import Batch, Rollback, Stored, transaction
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
    errors: pl.DataFrame = field(default_factory=lambda: _with_file(error_frame([]), Path()))
    notices: pl.DataFrame = field(default_factory=lambda: _with_file(error_frame([]), Path()))
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    skip_invalid: bool = False
    rejected_path: Path | None = None
    encoding: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    staged: bool = False  # folder import: good rows are written in the batch's transaction to check later files
    frame: pl.DataFrame | None = None  # the good rows as stored (or, in a dry run, as they would be)

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
    plain = [c.field for c in checked.columns if not c.declared and c.store]
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
    fixed = {c.field for c in checked.columns if not c.updates}
    update = [c for c in frame.columns if c not in kind.key and c not in fixed]
    for name, value in kind.defaults.items():
        if name in frame.columns and not isinstance(value, dict | list):  # a blank cell takes the default
            frame = frame.with_columns(pl.col(name).fill_null(value))
        elif name not in frame.columns:
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
    timer = _Timer(result)
    phase("reading")
    try:
        grid = read_grid(path)
    except ReadError as exc:
        result.errors = _with_file(error_frame([(None, None, None, str(exc))]), path)
        return result
    timer.lap("read")
    phase("checking")
    checked = read_and_check(kind, path, result, grid)
    timer.lap("check")
    # SQLite writes through ADBC's own copy of the SQLite library (see store.py). POSIX locks belong
    # to the process, so `transaction` closes the engine's sqlite3 connections first.
    try:
        with transaction(engine) as batch:
            phase("checking references")
            store_checked(batch, checked, result, phase, timer.lap)
            if result.written:
                timer.lap("store")
            if not result.written:
                raise Rollback
    except Rollback:
        pass
    if result.written and result.rejected and not checked.file_level():
        target = Path(rejected_path) if rejected_path else path.with_name(path.name + ".rejected.csv")
        _write_rejected(checked, target)
        result.rejected_path = target
    return result


class _Timer:
    """Seconds per phase into result.seconds."""

    def __init__(self, result: ImportResult) -> None:
        self.result, self.clock = result, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.result.seconds[name] = now - self.clock
        self.clock = now


def read_and_check(kind: ImportKind, path: Path, result: ImportResult, grid: Grid | None = None) -> Checked | None:
    """Read and check a file (no database); None when it cannot be read (the error is in `result`)."""
    try:
        grid = grid or read_grid(path)
    except ReadError as exc:
        result.errors = _with_file(error_frame([(None, None, None, str(exc))]), path)
        return None
    result.encoding = grid.encoding
    checked = check_grid(grid, kind)
    resolve_boundaries(checked, path.parent)
    result.rows, result.warnings = checked.raw.height, checked.warnings
    return checked


def store_checked(
    batch: Batch,
    checked: Checked,
    result: ImportResult,
    phase: Callable[[str], None] | None = None,
    lap: Callable[[str], None] | None = None,
) -> None:
    """Check references (seeing the batch's earlier writes) and store the rows the mode allows."""
    kind = checked.kind
    check_references(batch.fetch, checked)
    if lap:
        lap("references")
    errors = checked.errors.with_columns(pl.col("column").replace(checked.labels))  # the user's words
    result.errors = _with_file(errors.sort(ROW, nulls_last=False), result.path)
    result.notices = _with_file(checked.notices.sort(ROW), result.path)
    bad = checked.bad_rows()
    result.rejected = bad.len() if not checked.file_level() else result.rows
    if result.dry_run and not checked.file_level() and not checked.typed.is_empty():
        # what would be stored, for the data-quality checks a dry run reports too
        result.frame = _db_frame(kind, checked, checked.typed.filter(~pl.col(ROW).is_in(bad.implode())))[0]
    if not (result.written or result.staged):
        return
    if checked.typed.is_empty():  # a header-only file (an export of an empty table) stores nothing
        result.stored = 0
        return
    if phase:
        phase("storing")
    good = checked.typed.filter(~pl.col(ROW).is_in(bad.implode()))
    frame, update = _db_frame(kind, checked, good)
    result.stored = batch.upsert(kind.table, frame, kind.key, update, kind.on_conflict)
    result.frame = frame


def _with_file(errors: pl.DataFrame, path: Path) -> pl.DataFrame:
    """The error frame with the file name first and `row` as the user-facing name of the row number."""
    return errors.select(
        pl.lit(str(path)).alias("file"), pl.col(ROW).alias("row"), "column", "value", "reason"
    )
