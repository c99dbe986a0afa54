"""Reading import files (.csv in UTF-8 / UTF-8 with BOM / GB18030, .xlsx) into a grid of strings.

Every cell is read as text (or None) so that validation sees what the user typed; the grid keeps
the row number as the user sees it in the file (`_row`, 1 = first line).
"""

from __future__ import annotations

import codecs
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from charset_normalizer import from_bytes

ROW = "_row"
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit
XLSX_MAX_COLUMNS = 256  # far more than any import kind has; Excel allows 16,384


class ReadError(ValueError):
    """A file that cannot be read at all (missing, empty, unknown format or encoding)."""


@dataclass
class Grid:
    """A file's cells as strings: columns c0..cN, plus `_row` (the file's row number)."""

    path: Path
    frame: pl.DataFrame
    encoding: str | None = None


def detect_encoding(data: bytes) -> str:
    """The text encoding of CSV bytes: UTF-8 with BOM, UTF-8, GB18030, else charset-normalizer's guess.

    UTF-8 is tried before GB18030 because GB18030 decodes almost any byte string, while valid UTF-8
    Chinese text is almost never valid GB18030 by accident of the same meaning.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    best = from_bytes(data[:1_000_000]).best()
    if best is None:
        raise ReadError("cannot tell the text encoding; save the file as UTF-8 or GB18030")
    return best.encoding


def _parse_csv(data: bytes) -> pl.DataFrame:
    """UTF-8 CSV bytes as columns c0..cN of strings (Polars refuses invalid UTF-8 with a ComputeError)."""
    frame = pl.read_csv(
        data, has_header=False, infer_schema=False, truncate_ragged_lines=True, raise_if_empty=False
    )
    return frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})


def read_csv(path: Path) -> Grid:
    """A CSV file as a grid of strings, its encoding detected.

    Plain UTF-8 (the common case) goes straight to Polars, which checks the encoding while parsing;
    only when it refuses the bytes is the encoding detected and the text converted.
    """
    data = path.read_bytes()
    if not data[:65536].strip() and not data.strip():
        raise ReadError(f"{path}: the file is empty")
    if data.startswith(codecs.BOM_UTF8):
        return Grid(path, _parse_or_refuse(path, data[len(codecs.BOM_UTF8) :]), "utf-8-sig")
    try:
        return Grid(path, _finish(_parse_csv(data)), "utf-8")
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc).lower():
            raise ReadError(f"{path}: cannot read as CSV ({_first_line(exc)})") from exc
    encoding = detect_encoding(data)
    return Grid(path, _parse_or_refuse(path, data.decode(encoding, "replace").encode("utf-8")), encoding)


def _parse_or_refuse(path: Path, data: bytes) -> pl.DataFrame:
    """Parse UTF-8 CSV bytes; a file Polars cannot parse (bad quoting, bad UTF-8) is a ReadError."""
    try:
        return _finish(_parse_csv(data))
    except pl.exceptions.PolarsError as exc:  # found by fuzzing: a stray quote after a GB18030 guess
        raise ReadError(f"{path}: cannot read as CSV ({_first_line(exc)})") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _cell_text(value: object) -> str | None:
    """An Excel cell value as the text a user would have typed."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class XlsxLimits:
    """Caps on reading one worksheet: a small file can declare or (zipped) hold a huge sheet."""

    max_rows: int = XLSX_MAX_ROWS
    max_columns: int = XLSX_MAX_COLUMNS
    max_seconds: float | None = None


def read_xlsx(path: Path, limits: XlsxLimits | None = None) -> Grid:
    """The first sheet of a workbook as a grid of strings (openpyxl in read-only mode).

    The sheet's declared `<dimension>` is ignored (a 4.8 KB file declaring A1:XFD2000 would otherwise
    be padded to 32 million cells); rows, columns and time are capped by `limits` with a clear error.
    """
    from openpyxl import load_workbook

    limits = limits or XlsxLimits()
    deadline = None if limits.max_seconds is None else time.monotonic() + limits.max_seconds
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a damaged file
        raise ReadError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    rows: list[list[str | None]] = []
    try:
        sheet = book.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # read the cells that are there, not the range the file claims
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > limits.max_rows:
                raise ReadError(f"{path}: more than {limits.max_rows:,} rows")
            end = len(row)
            while end and row[end - 1] is None:  # trailing empty cells
                end -= 1
            if end > limits.max_columns:
                raise ReadError(f"{path}: row {number} has more than {limits.max_columns} columns")
            rows.append([_cell_text(v) for v in row[:end]])
            if deadline is not None and number % 256 == 0 and time.monotonic() > deadline:
                raise ReadError(f"{path}: reading took longer than {limits.max_seconds:g} s; is the sheet that big?")
    except ReadError:
        raise
    except Exception as exc:  # a damaged sheet (bad XML, illegal characters) fails while rows are read
        raise ReadError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    finally:
        book.close()
    width = max((len(r) for r in rows), default=0)
    columns = {f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)}
    return Grid(path, _finish(pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))))


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    """Trim cells, make blank cells null, number the rows and drop the wholly blank ones."""
    cells = [c for c in frame.columns if c != ROW]
    # trim only the columns that need it (most do not, and trimming copies every string)
    padded = frame.select([pl.col(c).str.contains(r"^\s|\s$").any() for c in cells]).row(0) if cells else ()
    trims = [
        pl.col(c).str.strip_chars().replace("", None) for c, pad in zip(cells, padded, strict=True) if pad
    ]
    frame = frame.with_columns(trims).with_row_index(ROW, offset=1)
    if not cells:
        return frame
    filled = frame.select(pl.any_horizontal([pl.col(c).is_not_null() for c in cells])).to_series()
    return frame if filled.all() else frame.filter(filled)


def read_grid(path: str | Path, xlsx_limits: XlsxLimits | None = None) -> Grid:
    """Any supported file as a grid of strings; a clear error for a missing, empty or unknown file."""
    path = Path(path)
    if not path.exists():
        raise ReadError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: the file is empty")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, xlsx_limits)
    raise ReadError(f"{path}: unsupported file type {suffix or '(none)'}; use .csv or .xlsx")
