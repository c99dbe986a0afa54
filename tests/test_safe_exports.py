"""Issue 8 items 6 and 7: control characters refused at import, and every Excel/CSV the product
writes neutralises formula triggers (= + - @ tab CR) and survives ESC/BEL."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl
import pytest
from import_support import CODE_A, CODE_B, ENTERPRISE_HEADERS, registry_engine, snapshot, write_csv
from openpyxl import load_workbook
from tier_helpers import STRONG, facts
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.cli.registry import SHOWN_ERRORS
from smecluster.services.registry import import_registry_file

runner = CliRunner()
DANGEROUS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def _is_formula_safe(text: object) -> bool:
    return not isinstance(text, str) or text[:1] not in ("=", "+", "-", "@", "\t", "\r") or _number(text)


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# --- the shared helper -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", DANGEROUS)
def test_safe_cell_quotes_formula_triggers(text):
    """Every trigger gets a leading apostrophe; the text itself is kept."""
    from smecluster.safe_text import safe_cell

    assert safe_cell(text) == "'" + text


def test_safe_cell_keeps_numbers_and_plain_text():
    """Negative numbers, numbers and ordinary text are not touched; controls become U+FFFD."""
    from smecluster.safe_text import safe_cell

    assert [safe_cell(v) for v in ("-5", "+3.5", "1e-3", "常熟", 12, None)] == ["-5", "+3.5", "1e-3", "常熟", 12, None]
    assert safe_cell("a\x1bb\x07") == "a\ufffdb\ufffd"


def test_safe_frame_matches_safe_cell():
    """The vectorised column version gives the same cells as the scalar one."""
    from smecluster.safe_text import safe_cell, safe_frame

    values = [*DANGEROUS, "-5", "plain", None, "x\x00y"]
    frame = safe_frame(pl.DataFrame({"v": values, "n": list(range(len(values)))}))
    assert frame["v"].to_list() == [safe_cell(v) for v in values]
    assert frame["n"].to_list() == list(range(len(values)))


def test_control_character_rule():
    """NUL, BEL, ESC, DEL and C1 controls are found; tab, newline and CR are text."""
    from smecluster.safe_text import control_character

    assert [control_character(t) for t in ("a\x00", "\x07", "\x1b[", "\x7f", "\x85", "a\tb\r\nc")] == [
        "U+0000",
        "U+0007",
        "U+001B",
        "U+007F",
        "U+0085",
        None,
    ]


# --- every writer --------------------------------------------------------------------------------------


def test_tier_workbook_neutralises_names_and_survives_esc_bel(tmp_path):
    """`evaluate enterprises --format xlsx`: formula names come out as text, ESC/BEL names do not crash."""
    from smecluster.reports.tier_export import write_xlsx
    from smecluster.services.tiers import evaluate_facts

    rows = [{**STRONG, "name": name} for name in [*DANGEROUS, "坏\x1b名\x07"]]
    evaluation = evaluate_facts(facts(*rows), 2025, date(2026, 6, 30))
    path = write_xlsx(evaluation, tmp_path / "e.xlsx")
    book = load_workbook(path)  # not read-only: cell types are checked
    sheet = book["firms"]
    header = [c.value for c in sheet[1]]
    names = [row[header.index("name")] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    # (a CR reads back as a CR or, by older openpyxl writers, as a line feed: either is text)
    got = [c.value for c in names]
    assert [g.replace("\r", "\n") for g in got[:-1]] == ["'" + d.replace("\r", "\n") for d in DANGEROUS]
    assert got[-1] == "坏\ufffd名\ufffd"


def _reader(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_rejected_rows_file_neutralises_cells(tmp_path):
    """The rejected-rows CSV of `import --skip-invalid` quotes a formula name as typed by the user."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = registry_engine(url)
    path = write_csv(
        tmp_path / "e.csv",
        ENTERPRISE_HEADERS,
        [[CODE_A, "甲", "320481", "3841", "", "", ""], ["=1+2", "=cmd|' /C calc'!A0", "320481", "3841", "", "", ""]],
    )
    result = import_registry_file(engine, "enterprises", path, skip_invalid=True)
    cells = [c for row in _reader(result.rejected_path) for c in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'=1+2" in cells
    assert all(_is_formula_safe(c) for c in cells)


def test_cli_errors_file_neutralises_values(tmp_path):
    """The `FILE.errors.csv` written when problems are many quotes the values it repeats."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    registry_engine(url)
    rows = [[f"=HYPERLINK({i})", "名", "320481", "3841"] for i in range(SHOWN_ERRORS + 2)]
    path = write_csv(tmp_path / "e.csv", ENTERPRISE_HEADERS[:4], rows)
    result = runner.invoke(app, ["--db", url, "import", "enterprises", str(path)])
    assert result.exit_code == 1
    cells = [c for row in _reader(tmp_path / "e.csv.errors.csv") for c in row]
    assert "'=HYPERLINK(0)" in cells and all(_is_formula_safe(c) for c in cells)


def test_locate_output_neutralises_the_users_columns(tmp_path):
    """`smecluster locate` passes the user's columns through: they come out quoted."""
    source = tmp_path / "firms.csv"
    pl.DataFrame({"name": ["=cmd|' /C calc'!A0", "@x"], "lon": [119.48, 120.75], "lat": [31.42, 31.65]}).write_csv(
        source
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["locate", str(source), "--province", "32", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out, infer_schema=False)
    assert table["name"].to_list() == ["'=cmd|' /C calc'!A0", "'@x"]


def test_specialisation_csv_goes_through_the_safe_writer(tmp_path, monkeypatch):
    """`geo specialisation -o` writes through the shared safe writer (a formula cell comes out quoted)."""
    import smecluster.services.geography as geography

    monkeypatch.setattr(
        geography, "specialisation", lambda *a, **k: pl.DataFrame({"county_code": ["320481"], "industry": ["=1+1"]})
    )
    out = tmp_path / "lq.csv"
    result = runner.invoke(app, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "specialisation", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out, infer_schema=False)["industry"].to_list() == ["'=1+1"]


def test_template_has_no_formula_cell(tmp_path):
    """The blank template's cells (allowed ranges such as "-5 - 100") are text, never formulas."""
    from smecluster.registry.import_kinds import kinds
    from smecluster.registry.template import write_template

    for kind in kinds():
        book = load_workbook(write_template(kind, tmp_path / f"{kind}.xlsx"))
        for sheet in book.worksheets:
            assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), (kind, sheet.title)


# --- item 6 at import --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["bad\x00name", "esc\x1bname", "bell\x07name"])
def test_import_refuses_control_characters_with_a_row_error(database_url, tmp_path, bad):
    """A name with NUL/ESC/BEL is a row error naming file, row and column; nothing is stored."""
    engine = registry_engine(database_url)
    path = write_csv(
        tmp_path / "e.csv",
        ENTERPRISE_HEADERS,
        [[CODE_A, "甲", "320481", "3841", "", "", ""], [CODE_B, bad, "320481", "3841", "", "", ""]],
    )
    before = snapshot(engine)
    result = import_registry_file(engine, "enterprises", path)
    assert not result.ok and not result.written
    err = result.errors.row(0, named=True)
    assert (err["file"], err["row"], err["column"]) == (str(path), 3, "企业名称")
    assert "control character" in err["reason"]
    assert snapshot(engine) == before


def test_cli_import_with_nul_prints_a_row_error_not_a_traceback(database_url, tmp_path):
    """`smecluster import` on a file with NUL exits 1 with the row error, on both databases."""
    registry_engine(database_url)
    path = write_csv(tmp_path / "e.csv", ENTERPRISE_HEADERS[:4], [[CODE_A, "bad\x00name", "320481", "3841"]])
    result = runner.invoke(app, ["--db", database_url, "import", "enterprises", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert "control character" in result.output and "bad\\x00name" in result.output


def test_xlsx_import_with_control_character_is_a_row_error(database_url, tmp_path):
    """A C1 control (legal in XML, so an .xlsx can hold it) is refused as a row error too."""
    from openpyxl import Workbook

    engine = registry_engine(database_url)
    book = Workbook()
    book.active.append(ENTERPRISE_HEADERS[:4])
    book.active.append([CODE_A, "甲", "320481", "3841"])
    book.active.append([CODE_B, "乙\x9b名", "320481", "3841"])
    book.save(tmp_path / "e.xlsx")
    result = import_registry_file(engine, "enterprises", tmp_path / "e.xlsx")
    assert not result.written
    bad = result.errors.filter(pl.col("row").is_not_null())
    assert bad["row"].to_list() == [3] and bad["column"].to_list() == ["企业名称"]


def test_unparsable_csv_after_encoding_detection_is_a_read_error(tmp_path):
    """Found by fuzzing: bytes that are not UTF-8 and hold a stray quote were a raw Polars ComputeError;
    they are a ReadError (a clean file error) now."""
    from smecluster.registry.readers import ReadError, read_grid

    path = tmp_path / "bad.csv"
    path.write_bytes(b'"E\xb7\xb4IT\xd9')
    with pytest.raises(ReadError, match="cannot read as CSV"):
        read_grid(path)
