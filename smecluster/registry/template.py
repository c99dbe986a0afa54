"""Blank Excel templates for each import kind: Chinese headers, cell checks and a sheet of column notes."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from smecluster.registry.import_kinds import TYPE_LABELS, ColumnSpec, ImportKind, get_kind
from smecluster.safe_text import safe_cell

DATA_SHEET = "数据 data"
NOTES_SHEET = "填写说明 columns"
LAST_ROW = 100_000  # cell checks cover this many rows
TEXT_ROWS = 1_000  # code cells formatted as text (keeps leading zeros) down to this row
REQUIRED_FILL = PatternFill("solid", fgColor="FFE699")
OPTIONAL_FILL = PatternFill("solid", fgColor="DDEBF7")
TEXT_TYPES = ("text", "code", "uscc", "code_list", "enum")


def _num(x: float) -> str:
    """A bound as Excel reads it (no trailing .0)."""
    return str(int(x)) if float(x).is_integer() else str(x)


def _validation(spec: ColumnSpec) -> DataValidation | None:
    """The Excel cell check matching a column's type, or None where Excel has no fitting check."""
    title, lower = spec.header, spec.min
    if spec.type == "bool":
        return DataValidation(
            type="list", formula1='"是,否"', errorTitle=title, error="请填写 是 或 否 (yes/no)"
        )
    if spec.type == "enum":
        labels = ",".join(labels[0] for labels in (spec.values or {}).values())
        return DataValidation(
            type="list",
            formula1=f'"{labels.replace(chr(34), chr(34) * 2)}"',
            errorTitle=title,
            error="请从列表中选择 (choose from the list)",
        )
    if spec.type in ("int", "year"):
        low = 1900 if spec.type == "year" else int(lower if lower is not None else -(10**9))
        high = 2100 if spec.type == "year" else int(spec.max if spec.max is not None else 10**12)
        return DataValidation(
            type="whole",
            operator="between",
            formula1=str(low),
            formula2=str(high),
            errorTitle=title,
            error=f"请填写 {low} 到 {high} 的整数 (whole number)",
        )
    if spec.type == "number":
        low = lower if lower is not None else -(10**12)
        high = spec.max if spec.max is not None else 10**15
        return DataValidation(
            type="decimal",
            operator="between",
            formula1=_num(low),
            formula2=_num(high),
            errorTitle=title,
            error=f"请填写 {low:g} 到 {high:g} 的数值 (number)",
        )
    if spec.type == "uscc":
        return DataValidation(
            type="textLength",
            operator="equal",
            formula1="18",
            errorTitle=title,
            error="统一社会信用代码为 18 位 (18 characters)",
        )
    if spec.type == "date":
        return DataValidation(
            type="date",
            operator="greaterThan",
            formula1="1",
            errorTitle=title,
            error="请填写日期 (date), 如 2023-03-31",
        )
    if spec.max_length:
        return DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(spec.max_length),
            errorTitle=title,
            error=f"不超过 {spec.max_length} 个字符",
        )
    return None


def _notes_row(spec: ColumnSpec) -> list[str]:
    allowed = ""
    if spec.type == "enum":
        allowed = " / ".join(f"{labels[0]} ({code})" for code, labels in (spec.values or {}).items())
    elif spec.type == "bool":
        allowed = "是 / 否 (also Y/N, 1/0)"
    elif spec.min is not None or spec.max is not None:
        allowed = " - ".join(f"{v:g}" if v is not None else "" for v in (spec.min, spec.max))
    ref = spec.references.missing if spec.references else ""
    required = "必填 required" if spec.required else "选填 optional"
    return [spec.header, spec.english, TYPE_LABELS[spec.type], required, allowed, spec.description, ref]


def build_template(kind: ImportKind) -> Workbook:
    """A workbook with the kind's headers on the first sheet and an explanation sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = DATA_SHEET
    for i, spec in enumerate(kind.columns, start=1):
        cell = sheet.cell(row=1, column=i, value=safe_cell(spec.header))
        cell.font = Font(bold=True)
        cell.fill = REQUIRED_FILL if spec.required else OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center")
        note = f"{spec.english} ({'required' if spec.required else 'optional'}): {spec.description}"
        cell.comment = Comment(note, "smecluster", width=320, height=120)
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(12, len(spec.header) * 2 + 4)
        if spec.type in TEXT_TYPES:  # keep leading zeros of codes
            for row in range(2, TEXT_ROWS + 1):
                sheet.cell(row=row, column=i).number_format = "@"
        check = _validation(spec)
        if check is not None:
            check.showErrorMessage = True
            check.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(check)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet(NOTES_SHEET)
    notes.append(
        [
            "列名 header",
            "English",
            "类型 type",
            "是否必填 required",
            "取值 allowed",
            "说明 description",
            "须已存在 must exist",
        ]
    )
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for spec in kind.columns:
        notes.append([safe_cell(v) for v in _notes_row(spec)])  # "-5 - 100" would be a formula
    notes.append([])
    notes.append(
        [
            f"{kind.title_zh} ({kind.title_en}); 唯一键 key: "
            + " + ".join(kind.column(k).header for k in kind.key)
        ]
    )
    for letter, width in zip("ABCDEFG", (24, 22, 20, 16, 36, 70, 50), strict=True):
        notes.column_dimensions[letter].width = width
    return book


def write_template(kind_name: str, path: str | Path) -> Path:
    """Write the blank template of `kind_name` to `path` (.xlsx)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"{path}: a template is an .xlsx file")
    path.parent.mkdir(parents=True, exist_ok=True)
    build_template(get_kind(kind_name)).save(path)
    return path
