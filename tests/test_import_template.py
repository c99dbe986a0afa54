"""Excel templates: headers, cell checks, notes sheet, and a filled template imports back."""

from __future__ import annotations

import pytest
from import_support import CODE_A, CODE_B, registry_engine, snapshot
from openpyxl import load_workbook

from smecluster.registry.import_kinds import kinds
from smecluster.registry.template import DATA_SHEET, NOTES_SHEET
from smecluster.services.registry import import_registry_file, write_import_template


@pytest.mark.parametrize("kind", list(kinds()))
def test_template_has_every_header_and_a_note_per_column(tmp_path, kind):
    """Each template carries the kind's Chinese headers and one explanation row per column."""
    path = write_import_template(kind, tmp_path / f"{kind}.xlsx")
    book = load_workbook(path)
    headers = [c.value for c in book[DATA_SHEET][1]]
    assert headers == [c.header for c in kinds()[kind].columns]
    notes = [row[0] for row in book[NOTES_SHEET].iter_rows(min_row=2, values_only=True) if row[0]]
    assert notes[: len(headers)] == headers


def test_template_cell_checks_match_column_types(tmp_path):
    """Yes/no columns get a 是/否 list, counts whole numbers >= 0, money decimals >= 0, codes 18 chars."""
    book = load_workbook(write_import_template("enterprise_years", tmp_path / "y.xlsx"))
    checks = {str(dv.sqref).split(":")[0]: dv for dv in book[DATA_SHEET].data_validations.dataValidation}
    headers = {c.value: c.column_letter for c in book[DATA_SHEET][1]}
    assert checks[headers["是否上云"] + "2"].formula1 == '"是,否"'
    employees = checks[headers["从业人员(人)"] + "2"]
    assert (employees.type, employees.formula1) == ("whole", "0")
    revenue = checks[headers["营业收入(万元)"] + "2"]
    assert (revenue.type, revenue.formula1) == ("decimal", "0")
    code = checks[headers["统一社会信用代码"] + "2"]
    assert (code.type, code.formula1) == ("textLength", "18")


def test_platform_template_lists_levels(tmp_path):
    """The platform level column offers 国家级/省级/市级."""
    book = load_workbook(write_import_template("platforms", tmp_path / "p.xlsx"))
    formulas = [dv.formula1 for dv in book[DATA_SHEET].data_validations.dataValidation if dv.type == "list"]
    assert '"国家级,省级,市级"' in formulas


def test_filled_template_imports(database_url, tmp_path):
    """A template filled in Excel style (numbers as numbers, codes as text) imports all its rows."""
    engine = registry_engine(database_url)
    path = write_import_template("enterprises", tmp_path / "e.xlsx")
    book = load_workbook(path)
    sheet = book[DATA_SHEET]
    sheet.append([CODE_A, "溧阳甲公司", "320481", "3841", 119.5, 31.4, None])
    sheet["A3"], sheet["B3"], sheet["C3"], sheet["D3"] = CODE_B, "溧阳乙公司", 320481, 3841
    book.save(path)
    result = import_registry_file(engine, "enterprises", path)
    assert result.ok, result.errors
    assert result.stored.inserted == 2


def test_blank_template_is_refused_as_having_no_rows(database_url, tmp_path):
    """Importing an unfilled template reports that there are no data rows and changes nothing."""
    engine = registry_engine(database_url)
    before = snapshot(engine)
    result = import_registry_file(
        engine, "enterprises", write_import_template("enterprises", tmp_path / "t.xlsx")
    )
    assert "no data rows" in result.errors["reason"].item()
    assert snapshot(engine) == before
