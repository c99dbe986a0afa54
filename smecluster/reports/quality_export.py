"""The data-quality report as JSON data and as a formula-safe workbook (findings, summary, digit tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from smecluster.safe_text import safe_cell, safe_frame


def report_dict(report) -> dict[str, Any]:
    """Plain data: year, checks (id, severity, reasons), findings, summary per county, digit tests."""
    return {
        "year": report.year,
        "checks": [{"id": c.id, "group": c.group, "severity": c.severity, "reason_zh": c.reason("zh"),
                    "reason_en": c.reason("en"), "params": c.params} for c in report.catalogue.checks],
        "findings": report.findings.to_dicts(),
        "summary": report.summary.to_dicts(),
        "digits": report.digits.to_dicts(),
    }


def _sheet(wb, title: str, frame: pl.DataFrame) -> None:
    # names and details come from imports: no cell may start a formula (safe_text, decision 0853)
    safe = safe_frame(frame)
    ws = wb.create_sheet(title)
    ws.append(safe.columns)
    for row in safe.iter_rows():
        ws.append([safe_cell(v) if isinstance(v, str) else v for v in row])


def write_xlsx(report, path: Path) -> Path:
    """A workbook with sheets findings, summary (per county) and digits (Benford, per county and year)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    _sheet(wb, "findings", report.findings)
    _sheet(wb, "summary", report.summary)
    _sheet(wb, "digits", report.digits)
    wb.save(path)
    return Path(path)
