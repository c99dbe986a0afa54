"""Reliability: fuzz the importers with Hypothesis, on CSV bytes, XLSX bytes and row values.

Targets (each input counts once):
  csv-bytes   arbitrary bytes, and header + rows of generated values (control characters, formulas,
              numbers, dates, codes) in UTF-8, UTF-8 with BOM or GB18030 -> read_grid + check_grid
  xlsx-bytes  a valid workbook with bytes flipped, cut or inserted, and workbooks written from generated
              values -> read_grid (member-list limits) + check_grid, and the web's member_codes
  row-values  files of --rows-per-file rows drawn from Hypothesis-generated cell values (each row counts as one
              input) -> read_grid + check_grid; a row holding a control character must be a row error
  import-db   generated rows written as CSV and imported into SQLite with import_file: a refused file
              must leave the database exactly as it was; an accepted one adds at most its rows
Allowed outcomes: a result (with or without row/file errors), ReadError, WorkflowError (member lists).
Anything else is a crash and is printed with the input that caused it.

Usage: python bench/reliability_fuzz_import.py [--inputs 1000000] [--seconds 7200] [--db-share 0.02]
Not part of CI; prints progress every minute and a summary.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smecluster.registry.import_kinds import get_kind
from smecluster.registry.readers import ReadError, read_grid
from smecluster.registry.validate import check_grid
from smecluster.workflow.applications import WorkflowError
from smecluster.workflow.member_file import LIMITS, member_codes

KIND = get_kind("enterprises")
HEADERS = [c.header for c in KIND.columns]
TRICKY = [
    "=cmd|' /C calc'!A0", "+1", "-1", "@A1", "\t=1", "a\x00b", "\x1b[31m", "\x07", "\x7f", "\x85", "\ufffe",
    "91320481MA1P00001X", "320481", "3841", "2023-03-31", "2023年3月31日", "是", "否", "1e308", "nan", "inf",
    "", " ", "\u3000", "１２３", "𠀀", "\r\n", '"', '""', ",", "；",
]
CELL = st.one_of(st.sampled_from(TRICKY), st.text(max_size=30), st.integers().map(str), st.floats().map(str))
ROWS = st.lists(st.lists(CELL, min_size=0, max_size=len(HEADERS) + 2), min_size=0, max_size=12)

counts: dict[str, int] = {"csv-bytes": 0, "xlsx-bytes": 0, "import-db": 0, "row-values": 0}
crashes: list[str] = []
FAST = settings(max_examples=500, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _crash(target: str, data: object) -> None:
    crashes.append(f"{target}: {traceback.format_exc(limit=3)}\n  input: {data!r:.400}")


def _grid(path: Path) -> None:
    """Read and check a file; only ReadError may come out."""
    try:
        grid = read_grid(path, LIMITS)
    except ReadError:
        return
    check_grid(grid, KIND)


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace") if encoding == "gb18030" else text.encode("utf-8", "surrogatepass")


def fuzz_csv(workdir: Path) -> None:
    """One batch of CSV inputs."""
    path = workdir / "f.csv"

    @FAST
    @given(
        st.one_of(
            st.binary(max_size=400),
            st.tuples(
                st.tuples(st.permutations(HEADERS), st.integers(1, len(HEADERS))).map(lambda t: list(t[0][: t[1]])),
                ROWS,
                st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
            ),
        )
    )
    def one(data):
        counts["csv-bytes"] += 1
        try:
            raw = data if isinstance(data, bytes) else _encode(_csv_text(data[0], data[1]), data[2])
            path.write_bytes(raw)
            _grid(path)
        except Exception:
            _crash("csv-bytes", data)

    one()


def fuzz_row_values(workdir: Path, rows_per_file: int = 5000) -> None:
    """One batch of big files whose rows are drawn from Hypothesis-generated cell values: every row
    is checked, and every row holding a control character must be refused (a row error)."""
    import numpy as np
    import polars as pl

    from smecluster.registry.readers import ROW
    from smecluster.safe_text import CONTROL_CLASS

    path = workdir / "rows.csv"

    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(CELL, min_size=20, max_size=200), st.integers(0, 2**32 - 1), st.integers(1, len(HEADERS)))
    def one(pool, seed, width):
        rng = np.random.default_rng(seed)
        values = np.array([v.replace("\x00", "") for v in pool], dtype=object)  # Polars' CSV writer: no NUL
        frame = pl.DataFrame({h: values[rng.integers(0, len(values), rows_per_file)] for h in HEADERS[:width]},
                             schema=dict.fromkeys(HEADERS[:width], pl.String))
        counts["row-values"] += rows_per_file
        try:
            frame.write_csv(path)
            try:
                grid = read_grid(path)
            except ReadError:
                return
            checked = check_grid(grid, KIND)
            if checked.file_level() or checked.raw.is_empty():
                return
            mapped = [c.header for c in checked.columns]
            control = checked.raw.filter(pl.any_horizontal([pl.col(c).str.contains(CONTROL_CLASS) for c in mapped]))
            missed = set(control[ROW].to_list()) - set(checked.bad_rows().to_list())
            if missed:
                raise AssertionError(f"rows with control characters not refused: {sorted(missed)[:5]}")
        except Exception:
            _crash("row-values", pool)

    one()


def _workbook(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    book.active.append(HEADERS)
    for row in rows:
        book.active.append([ILLEGAL_CHARACTERS_RE.sub("", v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def fuzz_xlsx(workdir: Path, seed_book: bytes) -> None:
    """One batch of XLSX inputs: mutated bytes of a real workbook, and generated workbooks."""
    path = workdir / "f.xlsx"
    mutation = st.lists(
        st.tuples(
            st.sampled_from(["flip", "cut", "insert"]),
            st.integers(0, len(seed_book) - 1),
            st.binary(min_size=1, max_size=8),
        ),
        min_size=1,
        max_size=6,
    )

    @FAST
    @given(st.one_of(mutation, ROWS.map(lambda r: ("rows", r))))
    def one(data):
        counts["xlsx-bytes"] += 1
        try:
            if isinstance(data, tuple):
                raw = _workbook(data[1])
            else:
                raw = bytearray(seed_book)
                for op, at, chunk in data:
                    if op == "flip":
                        raw[at : at + len(chunk)] = chunk
                    elif op == "cut":
                        del raw[at:]
                    else:
                        raw[at:at] = chunk
                raw = bytes(raw)
            path.write_bytes(raw)
            _grid(path)
            with contextlib.suppress(WorkflowError):
                member_codes(raw)
        except Exception:
            _crash("xlsx-bytes", data)

    one()


def fuzz_import(workdir: Path, engine, examples: int) -> None:
    """One batch of whole imports into SQLite: nothing stored from a refused file."""
    from sqlalchemy import func, select

    from smecluster.registry.importer import import_file
    from smecluster.registry.models import Enterprise

    path = workdir / "i.csv"

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(ROWS)
    def one(rows):
        counts["import-db"] += 1
        try:
            path.write_text(_csv_text(HEADERS[:4], [r[:4] for r in rows]), encoding="utf-8")
            with engine.connect() as c:
                before = c.execute(select(func.count()).select_from(Enterprise)).scalar()
            result = import_file(engine, "enterprises", path)
            with engine.connect() as c:
                after = c.execute(select(func.count()).select_from(Enterprise)).scalar()
            if not result.written and after != before:
                raise AssertionError(f"refused file changed the database: {before} -> {after}")
            if result.written and not before <= after <= before + len(rows):
                raise AssertionError(f"accepted file stored {after - before} rows of {len(rows)}")
        except Exception:
            _crash("import-db", rows)

    one()


def _registry_database(path: Path):
    from smecluster.db import open_database
    from smecluster.registry.industries import load_shipped_industries
    from smecluster.registry.regions import load_regions

    engine = open_database(f"sqlite:///{path}")
    load_regions(engine, "32")
    load_shipped_industries(engine)
    return engine


def main() -> None:
    """Run batches until the input count or the time limit is reached."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=7200)
    parser.add_argument("--db-share", type=float, default=0.02, help="share of inputs that are whole DB imports")
    parser.add_argument("--rows-per-file", type=int, default=5000, help="rows of each row-values file")
    args = parser.parse_args()
    started = last = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        engine = _registry_database(workdir / "fuzz.db")
        seed_book = _workbook([["91320481MA1P00001X", "甲", "320481", "3841"]])
        while sum(counts.values()) < args.inputs and time.monotonic() - started < args.seconds:
            fuzz_row_values(workdir, args.rows_per_file)
            fuzz_csv(workdir)
            fuzz_xlsx(workdir, seed_book)
            if counts["import-db"] < args.db_share * sum(counts.values()):
                fuzz_import(workdir, engine, 50)
            if time.monotonic() - last > 60:
                last = time.monotonic()
                print(f"{time.monotonic() - started:7.0f} s: {sum(counts.values()):,} inputs {counts}, "
                      f"{len(crashes)} crashes", flush=True)
    print(f"total {sum(counts.values()):,} inputs in {time.monotonic() - started:.0f} s: {counts}")
    print(f"crashes: {len(crashes)}")
    for c in crashes[:20]:
        print(c)
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
