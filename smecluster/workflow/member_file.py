"""Member lists uploaded with an application: every credit code found in an .xlsx or .csv file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from smecluster.messages import N_
from smecluster.registry.readers import ROW, ReadError, XlsxLimits, read_grid
from smecluster.workflow.applications import WorkflowError
from smecluster.workflow.evidence import detect_type

USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"
MAX_BYTES = 5 * 1024 * 1024
# A member list is a few thousand firms in a few columns; the caps stop a hostile sheet early.
LIMITS = XlsxLimits(max_rows=100_000, max_columns=64, max_seconds=10.0)


def member_codes(data: bytes, limits: XlsxLimits = LIMITS) -> list[str]:
    """The distinct unified social credit codes in any cell of an uploaded .xlsx or .csv (type by content).

    Blocking work (seconds for a big sheet): the web calls it in a worker thread, never on the event loop.
    """
    if not data:
        return []
    if len(data) > MAX_BYTES:
        raise WorkflowError(N_("the member file is larger than 5 MB"))
    kind = detect_type(data)
    if kind is not None and kind[1] != "xlsx":
        raise WorkflowError(N_("a member list is an .xlsx or .csv file"))
    suffix = ".xlsx" if kind else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"members{suffix}"
        path.write_bytes(data)
        try:
            frame = read_grid(path, limits).frame
        except ReadError as exc:
            raise WorkflowError(N_("member file: %(reason)s"), reason=str(exc).split(": ", 1)[-1]) from None
    cells = [c for c in frame.columns if c != ROW]
    if not cells:
        return []
    values = pl.concat([frame.select(pl.col(c).alias("v")) for c in cells]).drop_nulls()
    found = values.with_columns(pl.col("v").str.to_uppercase()).filter(pl.col("v").str.contains(USCC_PATTERN))
    return sorted(set(found["v"].to_list()))
