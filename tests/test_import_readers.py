"""Reading files: encodings detected, Excel cells read as the text a user typed."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from smecluster.registry.readers import ReadError, detect_encoding, read_grid

TEXT = "统一社会信用代码,企业名称\n91320481MA1P00001X,溧阳市动力电池有限公司\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gb18030"), "gb18030"),
    ],
)
def test_encoding_is_detected(data, encoding):
    """UTF-8, UTF-8 with BOM and GB18030 bytes are told apart."""
    assert detect_encoding(data) == encoding


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_reads_the_same_in_each_encoding(tmp_path, encoding):
    """The same table saved in three encodings reads to the same cells."""
    path = tmp_path / "f.csv"
    path.write_bytes(TEXT.encode(encoding))
    grid = read_grid(path)
    assert grid.frame.row(1) == (2, "91320481MA1P00001X", "溧阳市动力电池有限公司")


def test_excel_numbers_and_dates_read_as_typed(tmp_path):
    """Whole numbers lose the '.0', dates read as ISO dates, blank rows are skipped."""
    book = Workbook()
    sheet = book.active
    sheet.append(["a", "b", "c"])
    sheet.append([320481.0, 12.5, dt.datetime(2023, 3, 31)])
    sheet.append([None, None, None])
    sheet.append(["x", None, True])
    path = tmp_path / "f.xlsx"
    book.save(path)
    frame = read_grid(path).frame
    assert frame.rows() == [(1, "a", "b", "c"), (2, "320481", "12.5", "2023-03-31"), (4, "x", None, "1")]


def test_unknown_file_type_is_refused(tmp_path):
    """An .xls or other file type gets a clear error naming the accepted ones."""
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ReadError, match=r"use \.csv or \.xlsx"):
        read_grid(path)


def test_missing_file_is_refused(tmp_path):
    """A path that does not exist gets a clear error."""
    with pytest.raises(ReadError, match="no such file"):
        read_grid(tmp_path / "nope.csv")
