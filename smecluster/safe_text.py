"""Text that is safe to store and to hand to a spreadsheet: one rule for control characters and one
for formula injection, used by every input check and every Excel/CSV writer.

Control characters: C0 and C1 controls (NUL, BEL, ESC, DEL, ...) other than tab, line feed and
carriage return, and the non-characters U+FFFE/U+FFFF. PostgreSQL cannot store NUL, XML (hence
.xlsx) cannot hold most C0 controls, and no field of this product needs any of them.

Formula injection (CWE-1236): a cell that begins with = + - @ or a tab/CR is run as a formula by
Excel and LibreOffice. Such text is written with a leading apostrophe, the convention both programs
read as "this is text"; a plain number such as -5 is left as it is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

# Python and Polars (Rust regex) read the same class.
CONTROL_CLASS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]"
CONTROL_RE = re.compile(CONTROL_CLASS)
FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_FORMULA_RE = re.compile(FORMULA_START)
_NUMBER_RE = re.compile(PLAIN_NUMBER)
REPLACEMENT = "\ufffd"


def control_character(text: str | None) -> str | None:
    """The first control character of `text` as U+XXXX, or None when there is none."""
    if not text:
        return None
    found = CONTROL_RE.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def visible(text: str | None) -> str:
    """Text for a terminal or a message: each control character shown as \\xNN (or \\uNNNN)."""
    if not text:
        return text or ""
    return CONTROL_RE.sub(lambda m: _escape(ord(m.group())), text)


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def safe_cell(value: Any) -> Any:
    """One value ready for a spreadsheet cell: control characters replaced, formula triggers quoted."""
    if not isinstance(value, str):
        return value
    text = CONTROL_RE.sub(REPLACEMENT, value)
    if _FORMULA_RE.match(text) and not _NUMBER_RE.match(text):
        return "'" + text
    return text


def safe_column(expr: pl.Expr) -> pl.Expr:
    """`safe_cell` as a Polars expression over a whole string column (no Python loop over rows)."""
    cleaned = expr.str.replace_all(CONTROL_CLASS, REPLACEMENT)
    risky = cleaned.str.contains(FORMULA_START) & ~cleaned.str.contains(PLAIN_NUMBER)
    return pl.when(risky).then(pl.concat_str([pl.lit("'"), cleaned])).otherwise(cleaned)


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame whose string cells (and headers) are safe for Excel and CSV; other types unchanged."""
    renamed = {c: safe_cell(c) for c in frame.columns if safe_cell(c) != c}
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    out = frame.with_columns([safe_column(pl.col(c)).alias(c) for c in strings]) if strings else frame
    return out.rename(renamed) if renamed else out


def write_csv(frame: pl.DataFrame, target: Any, *, bom: bool = False) -> None:
    """Write a frame as a CSV a spreadsheet may open: cells made safe, optionally with a UTF-8 BOM
    (so that Excel reads the UTF-8 text correctly). `target` is a path or a binary file."""
    safe = safe_frame(frame)
    if isinstance(target, str | Path):
        with Path(target).open("wb") as out:
            if bom:
                out.write(b"\xef\xbb\xbf")
            safe.write_csv(out)
        return
    if bom:
        target.write(b"\xef\xbb\xbf")
    safe.write_csv(target)
