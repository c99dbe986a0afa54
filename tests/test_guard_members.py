"""Member lists uploaded with an application: which cells are credit codes (GB 32100-2015's alphabet, 18
characters), case, duplicates, the size cap and the file types; checked on bytes written here."""

from __future__ import annotations

import io

import openpyxl
import pytest

from smecluster.workflow.applications import WorkflowError
from smecluster.workflow.member_file import member_codes

A, B, C = "91320581MA1TEXT01X", "91320581MA1TEXT02X", "91320312MA1TEXT03X"


def test_codes_in_any_column_upper_cased_distinct_and_sorted():
    """Codes anywhere in the sheet; lower case is read as upper case; each code once, in order."""
    csv = f"name,code,note\n甲,{B},\n乙,{A.lower()},{C}\n丙,{A},see {B}\n".encode()
    assert member_codes(csv) == [C, A, B]  # 320312 sorts before 320581


@pytest.mark.parametrize("bad", [
    "91320581MA1TEXT0IX",   # I is not in the code alphabet
    "91320581MA1TEXT0OX",   # nor O
    "91320581MA1TEXT0SX",   # nor S
    "91320581MA1TEXT0VX",   # nor V
    "91320581MA1TEXT0ZX",   # nor Z
    "91320581MA1TEXT01",    # 17 characters
    "91320581MA1TEXT01XX",  # 19
    "9132058AMA1TEXT01X",   # a letter in the six-digit region code
    "see 91320581MA1TEXT01X",  # not the whole cell
])
def test_cells_that_are_not_a_code_are_ignored(bad):
    """Only a cell that is exactly one code counts."""
    assert member_codes(f"code\n{bad}\n{C}\n".encode()) == [C]


def test_empty_upload_is_no_members():
    """No file: no members (the form's members field may carry them)."""
    assert member_codes(b"") == []


def test_member_file_over_5_mb_is_refused():
    """5 MB and one byte: refused before reading."""
    data = b"code\n" + b"x" * (5 * 1024 * 1024 - 4)
    assert len(data) == 5 * 1024 * 1024 + 1
    with pytest.raises(WorkflowError, match="larger than 5 MB"):
        member_codes(data)


def test_a_member_file_in_no_known_encoding_is_refused_saying_so():
    """Bytes no text encoding reads (every byte from 0x80 up, over and over) are refused with the reader's reason
    whole (it names no file to strip)."""
    with pytest.raises(WorkflowError) as refused:
        member_codes(bytes(range(128, 256)) * 4)
    assert str(refused.value) == "member file: cannot tell the text encoding; save the file as UTF-8 or GB18030"


def test_a_pdf_is_not_a_member_list():
    """A file of another known type is refused by its content, whatever its name."""
    with pytest.raises(WorkflowError, match=r"an \.xlsx or \.csv file"):
        member_codes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")


def test_codes_from_an_xlsx_workbook():
    """An Excel workbook (found by its content) is read like a CSV."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "统一社会信用代码"])
    ws.append([1, C])
    ws.append([2, A.lower()])
    buf = io.BytesIO()
    wb.save(buf)
    assert member_codes(buf.getvalue()) == [C, A]


@pytest.mark.parametrize(("name", "shown"), [
    ("C:\\Users\\li\\证明.pdf", "证明.pdf"), ("a/b/report.pdf", "report.pdf"), (None, "file"),
    ('x<y>:"z|?*.pdf', "xyz.pdf"), ("", "file"),
    ("D:\\scans\\XJ-2025 X光报告.pdf", "XJ-2025 X光报告.pdf"),  # only the forbidden characters go
])
def test_evidence_display_name_is_the_last_path_part(name, shown):
    """Only the last part of a Windows or POSIX path is shown, without characters Windows forbids."""
    from smecluster.workflow.evidence import display_name

    assert display_name(name) == shown


def _zip(*names: str) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return buf.getvalue()


XLSX_TYPE = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
DOCX_TYPE = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")


@pytest.mark.parametrize(("data", "kind"), [
    (b"%PDF-1.7\n...", ("application/pdf", "pdf")),
    (b"\x89PNG\r\n\x1a\n\x00\x00", ("image/png", "png")),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", ("image/jpeg", "jpg")),
    (_zip("[Content_Types].xml", "xl/workbook.xml"), XLSX_TYPE),
    (_zip("[Content_Types].xml", "word/document.xml"), DOCX_TYPE),
    (_zip("xl/workbook.xml"), None),                          # a zip without the OOXML content types
    (_zip("[Content_Types].xml", "ppt/presentation.xml"), None),  # PowerPoint is not accepted
    (b"PK\x03\x04 broken", None),                             # not a readable zip
    (b"MZ\x90\x00 a program", None),
    (b"%PDF", None),                                          # the PDF mark is "%PDF-"
])
def test_evidence_type_is_read_from_the_first_bytes(data, kind):
    """PDF, PNG, JPEG, XLSX and DOCX are told by their content (OOXML by the parts inside the zip), nothing else."""
    from smecluster.workflow.evidence import detect_type

    assert detect_type(data) == kind
