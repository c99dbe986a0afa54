"""Simulation results as a workbook: one sheet per table."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A text that a spreadsheet would read as a formula is written with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return value


def write_xlsx(path: Path, sheets: dict[str, pl.DataFrame]) -> Path:
    """Each frame on its own sheet (names cut to Excel's 31 characters)."""
    wb = Workbook(write_only=True)
    for name, frame in sheets.items():
        ws = wb.create_sheet(name[:31])
        ws.append(frame.columns)
        for row in frame.iter_rows():
            ws.append([_cell(v) for v in row])
    wb.save(path)
    return Path(path)
