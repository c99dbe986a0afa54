"""Excel files (openpyxl): the cluster dossier, the yearly watch report and the recommendation summary.

One sheet per table, a bold frozen header, widths fitted to the text, and every text cell through the
formula-safe helper (safe_text.safe_cell: registry names never run as formulas, decision 0853).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from smecluster.reports.dossier_charts import trend_png
from smecluster.reports.sections import Section, dossier_sections, summary_rows, watch_sections
from smecluster.safe_text import safe_cell
from smecluster.services.dossiers import Dossier

HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
PENDING_FILL = PatternFill("solid", fgColor="FFF0C2")
MAX_WIDTH = 60


def _width(value: Any) -> int:
    text = str(value if value is not None else "")
    # a CJK character takes about two columns of a Latin digit
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def sheet_title(title: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in the workbook."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:28] or "sheet"
    name, n = base, 2
    while name in used:
        name, n = f"{base[:26]}_{n}", n + 1
    used.add(name)
    return name


def write_sheet(wb: Workbook, s: Section, used: set[str]) -> Any:
    """One section as a sheet: its title and note above, the header bold and frozen, widths fitted."""
    ws = wb.create_sheet(sheet_title(s.title, used))
    ws.cell(row=1, column=1, value=safe_cell(s.title)).font = Font(bold=True, size=12)
    row = 2
    if s.note:
        ws.cell(row=2, column=1, value=safe_cell(s.note)).font = Font(bold=s.pending, italic=not s.pending)
        if s.pending:
            ws.cell(row=2, column=1).fill = PENDING_FILL
        row = 3
    if s.header:
        for j, text in enumerate(s.header, start=1):
            cell = ws.cell(row=row, column=j, value=safe_cell(text))
            cell.font, cell.fill = Font(bold=True), HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = ws.cell(row=row + 1, column=1)
        for values in s.rows:
            ws.append([safe_cell(v) for v in values])
        for j in range(1, len(s.header) + 1):
            longest = max([_width(s.header[j - 1])] + [_width(r[j - 1]) for r in s.rows[:500]])
            ws.column_dimensions[get_column_letter(j)].width = min(max(longest + 2, 8), MAX_WIDTH)
    return ws


def _summary(wb: Workbook, title: str, facts: list[list[str]], png: bytes | None, used: set[str]) -> None:
    ws = write_sheet(wb, Section(title, ["项目", "内容"], facts), used)
    if png:
        image = Image(io.BytesIO(png))
        ws.add_image(image, f"D{2}")


def dossier_xlsx(d: Dossier, path: Path | str | None = None) -> bytes:
    """The cluster dossier as a workbook: summary (with the chart), then one sheet per table."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    _summary(wb, "概况", summary_rows(d), trend_png(d.watch), used)
    for s in dossier_sections(d):
        write_sheet(wb, s, used)
    return _save(wb, path)


def watch_xlsx(watch: Any, path: Path | str | None = None) -> bytes:
    """The yearly watch report as a workbook, plus every criterion of every cluster year by year."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for s in watch_sections(watch):
        write_sheet(wb, s, used)
    years = sorted({int(y) for c in watch.clusters for k in c["criteria"] for y in k["values"]})
    rows = [[c["code"], c["name"], k["id"], k["label_zh"], *[k["values"].get(y) for y in years], k["slope"],
             k["projected"], k["projected_status"], "是" if k["at_risk"] else ""]
            for c in watch.clusters for k in c["criteria"]]
    write_sheet(wb, Section("逐年指标", ["编号", "名称", "条件", "指标", *map(str, years), "近3年斜率", "复核年预测",
                                     "预测结论", "有风险"], rows), used)
    return _save(wb, path)


def table_xlsx(sections: list[Section], path: Path | str | None = None) -> bytes:
    """Any list of sections as a workbook (the recommendation summary uses it)."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for s in sections:
        write_sheet(wb, s, used)
    return _save(wb, path)


def _save(wb: Workbook, path: Path | str | None) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
