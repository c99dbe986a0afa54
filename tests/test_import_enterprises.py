"""Importing enterprises: storing, every kind of bad input, the three modes, re-import (both databases)."""

from __future__ import annotations

import polars as pl
from import_support import (
    CODE_A,
    CODE_B,
    CODE_C,
    ENTERPRISE_HEADERS,
    count,
    good_enterprises,
    registry_engine,
    snapshot,
    write_csv,
)
from sqlalchemy import select

from smecluster.registry.models import Enterprise
from smecluster.services.registry import import_registry_file


def _bad_row(tmp_path, row: list[str], name: str = "bad.csv"):
    """Two good rows and one bad row (the bad one is row 4 as the user sees the file)."""
    return write_csv(
        tmp_path / name,
        ENTERPRISE_HEADERS,
        [
            [CODE_A, "甲", "320481", "3841", "", "", ""],
            [CODE_B, "乙", "320481", "3841", "", "", ""],
            row,
        ],
    )


def _refused(engine, path, column: str, reason_part: str, row: int | None = 4):
    """Import `path`, expect nothing stored and one error at (row, column) containing `reason_part`."""
    before = snapshot(engine)
    result = import_registry_file(engine, "enterprises", path)
    assert not result.ok and not result.written
    hits = result.errors.filter(pl.col("column") == column)
    assert hits.height >= 1, result.errors
    assert reason_part in hits["reason"].item(0)
    assert hits["row"].item(0) == row
    assert hits["file"].item(0) == str(path)
    assert snapshot(engine) == before
    return result


def test_valid_file_is_stored(database_url, tmp_path):
    """Three valid rows are stored with their typed values."""
    engine = registry_engine(database_url)
    result = import_registry_file(engine, "enterprises", good_enterprises(tmp_path / "e.csv"))
    assert result.ok and result.stored.inserted == 3
    with engine.connect() as conn:
        c = conn.execute(select(Enterprise).where(Enterprise.uscc == CODE_C)).one()
    assert (c.county_code, c.industry_code, c.lon, str(c.established), c.fictional) == (
        "320581",
        "3841",
        120.75,
        "2010-06-01",
        False,
    )


def test_bad_check_digit_is_refused(database_url, tmp_path):
    """A credit code with a wrong check digit stops the import and is named."""
    engine = registry_engine(database_url)
    wrong = CODE_C[:-1] + ("0" if CODE_C[-1] != "0" else "1")
    _refused(
        engine,
        _bad_row(tmp_path, [wrong, "丙", "320481", "3841", "", "", ""]),
        "统一社会信用代码",
        "check digit",
    )


def test_unknown_county_is_refused(database_url, tmp_path):
    """A county code that is not a county-level division in the region table is refused."""
    engine = registry_engine(database_url)
    _refused(
        engine,
        _bad_row(tmp_path, [CODE_C, "丙", "320400", "3841", "", "", ""]),
        "所在县区代码",
        "no county-level division",
    )


def test_unknown_industry_is_refused(database_url, tmp_path):
    """An industry code missing from the industry table is refused."""
    engine = registry_engine(database_url)
    _refused(
        engine, _bad_row(tmp_path, [CODE_C, "丙", "320481", "3842", "", "", ""]), "行业代码", "GB/T 4754-2017"
    )


def test_non_numeric_coordinate_is_refused(database_url, tmp_path):
    """A longitude that is not a number is refused."""
    engine = registry_engine(database_url)
    _refused(
        engine,
        _bad_row(tmp_path, [CODE_C, "丙", "320481", "3841", "东经119", "", ""]),
        "经度",
        "not a number",
    )


def test_duplicate_key_names_both_rows(database_url, tmp_path):
    """The same credit code twice in one file is an error on both rows, naming both."""
    engine = registry_engine(database_url)
    result = _refused(
        engine,
        _bad_row(tmp_path, [CODE_A, "甲二", "320481", "3841", "", "", ""]),
        "统一社会信用代码",
        "rows 2, 4",
        row=2,
    )
    assert set(result.errors["row"].to_list()) == {2, 4}


def test_empty_file_is_refused(database_url, tmp_path):
    """An empty file gets a clear error and stores nothing."""
    engine = registry_engine(database_url)
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    before = snapshot(engine)
    result = import_registry_file(engine, "enterprises", path)
    assert "empty" in result.errors["reason"].item() and result.file_level
    assert snapshot(engine) == before


def test_header_only_file_is_refused(database_url, tmp_path):
    """A file with headers but no rows says so."""
    engine = registry_engine(database_url)
    result = import_registry_file(
        engine, "enterprises", write_csv(tmp_path / "h.csv", ENTERPRISE_HEADERS, [])
    )
    assert "no data rows" in result.errors["reason"].item()


def test_missing_required_column_is_named(database_url, tmp_path):
    """A file without the industry code column is refused naming that column."""
    engine = registry_engine(database_url)
    path = write_csv(
        tmp_path / "m.csv", ["统一社会信用代码", "企业名称", "所在县区代码"], [[CODE_A, "甲", "320481"]]
    )
    before = snapshot(engine)
    result = import_registry_file(engine, "enterprises", path)
    assert result.errors["reason"].to_list() == ["missing required column 行业代码 (industry_code)"]
    assert snapshot(engine) == before


def test_misspelled_column_gets_a_suggestion(database_url, tmp_path):
    """A misspelled header is refused with the closest known header suggested."""
    engine = registry_engine(database_url)
    headers = ["统一社会信用代码", "企业名称", "所在县区代码", "行业代马"]
    result = import_registry_file(
        engine, "enterprises", write_csv(tmp_path / "s.csv", headers, [[CODE_A, "甲", "320481", "3841"]])
    )
    reasons = result.errors["reason"].to_list()
    assert "unknown column: did you mean 行业代码?" in reasons
    assert count(engine, Enterprise) == 0


def test_spaces_and_full_width_brackets_in_headers_are_accepted(database_url, tmp_path):
    """English aliases, spaces and full-width forms of headers match the known columns."""
    engine = registry_engine(database_url)
    headers = [" 统一社会信用代码 ", "name", "所在县区代码", "Industry_Code"]
    result = import_registry_file(
        engine, "enterprises", write_csv(tmp_path / "w.csv", headers, [[CODE_A, "甲", "320481", "3841"]])
    )
    assert result.ok and result.stored.inserted == 1


def test_gb18030_file_is_imported(database_url, tmp_path):
    """A GB18030-encoded file (as saved by Excel on Chinese Windows) imports with its names intact."""
    engine = registry_engine(database_url)
    path = tmp_path / "gbk.csv"
    path.write_bytes(good_enterprises(tmp_path / "u.csv").read_text(encoding="utf-8").encode("gb18030"))
    result = import_registry_file(engine, "enterprises", path)
    assert result.ok and result.encoding == "gb18030"
    with engine.connect() as conn:
        names = set(conn.execute(select(Enterprise.name)).scalars())
    assert "溧阳电池甲有限公司" in names


def test_dry_run_stores_nothing(database_url, tmp_path):
    """A dry run of a valid file checks it and stores nothing."""
    engine = registry_engine(database_url)
    before = snapshot(engine)
    result = import_registry_file(engine, "enterprises", good_enterprises(tmp_path / "e.csv"), dry_run=True)
    assert result.ok and result.rows == 3
    assert snapshot(engine) == before


def test_skip_invalid_stores_good_rows_and_writes_rejected(database_url, tmp_path):
    """With skip-invalid the good rows are stored and the bad one is written with its reason."""
    engine = registry_engine(database_url)
    path = _bad_row(tmp_path, [CODE_C, "丙", "999999", "3841", "", "", ""])
    result = import_registry_file(engine, "enterprises", path, skip_invalid=True)
    assert result.stored.inserted == 2 and result.rejected == 1
    rejected = pl.read_csv(result.rejected_path, infer_schema=False)
    assert rejected["行号 row"].to_list() == ["4"]
    assert "所在县区代码: no county-level division" in rejected["错误原因 reason"].item()
    assert result.rejected_path == tmp_path / "bad.csv.rejected.csv"


def test_reimport_changes_nothing(database_url, tmp_path):
    """Importing the same file twice leaves the database as after the first import."""
    engine = registry_engine(database_url)
    path = good_enterprises(tmp_path / "e.csv")
    import_registry_file(engine, "enterprises", path)
    after_first = snapshot(engine)
    again = import_registry_file(engine, "enterprises", path)
    assert (again.stored.inserted, again.stored.updated) == (0, 0)
    assert snapshot(engine) == after_first


def test_reimport_with_a_change_updates_that_row(database_url, tmp_path):
    """A changed name in a re-imported file updates that enterprise only."""
    engine = registry_engine(database_url)
    import_registry_file(engine, "enterprises", good_enterprises(tmp_path / "e.csv"))
    changed = write_csv(tmp_path / "c.csv", ENTERPRISE_HEADERS[:4], [[CODE_A, "新名称", "320481", "3841"]])
    result = import_registry_file(engine, "enterprises", changed)
    assert (result.stored.inserted, result.stored.updated) == (0, 1)
    with engine.connect() as conn:
        row = conn.execute(select(Enterprise).where(Enterprise.uscc == CODE_A)).one()
    assert (row.name, row.lon) == ("新名称", 119.48)  # a column absent from the file keeps its value


def test_title_row_above_the_headers_is_skipped(database_url, tmp_path):
    """A title line above the header row is passed over and rows keep their numbers in the file."""
    engine = registry_engine(database_url)
    path = tmp_path / "t.csv"
    body = good_enterprises(tmp_path / "e.csv").read_text(encoding="utf-8")
    path.write_text(
        "溧阳市企业名录（2024年）,,,,,,\n" + body.replace(",320581,", ",999999,"), encoding="utf-8"
    )
    result = import_registry_file(engine, "enterprises", path)
    assert result.errors.select("row", "column").rows() == [(5, "所在县区代码")]


def test_fixed_rejected_file_imports_as_it_is(database_url, tmp_path):
    """The rejected file keeps the file's own headers, so once its values are fixed it imports directly."""
    engine = registry_engine(database_url)
    headers = ["uscc", "name", "county_code", "industry_code"]
    path = write_csv(
        tmp_path / "en.csv", headers, [[CODE_A, "甲", "320481", "3841"], [CODE_B, "乙", "999999", "3841"]]
    )
    first = import_registry_file(engine, "enterprises", path, skip_invalid=True)
    rejected = first.rejected_path.read_text(encoding="utf-8-sig")
    assert rejected.splitlines()[0] == "行号 row,uscc,name,county_code,industry_code,错误原因 reason"
    first.rejected_path.write_text(rejected.replace("999999", "320481"), encoding="utf-8-sig")
    second = import_registry_file(engine, "enterprises", first.rejected_path)
    assert second.ok and second.stored.inserted == 1


def test_longitude_without_latitude_is_refused(database_url, tmp_path):
    """A site with a longitude but no latitude is refused, naming the blank column."""
    engine = registry_engine(database_url)
    result = _refused(
        engine,
        _bad_row(tmp_path, [CODE_C, "丙", "320481", "3841", "119.5", "", ""]),
        "纬度",
        "both longitude and latitude",
    )
    assert result.errors.height == 1
