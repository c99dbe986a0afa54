"""Unified social credit codes (统一社会信用代码, GB 32100-2015): checks and check digits.

A code has 18 characters: 8 digits (registration authority, organisation type, GB/T 2260 region)
then 9 characters of the organisation code and one check character, all from a 31-character
alphabet without I, O, S, V and Z. The check character makes the weighted sum (weights 3**i mod 31)
of all 18 values divisible by 31.

Single values go through python-stdnum (`stdnum.cn.uscc`). Whole columns go through the vectorised
functions here, which a test proves equal to python-stdnum on random valid and corrupted codes.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
from stdnum.cn import uscc as _stdnum_uscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int32)
LENGTH = 18

# Byte -> value in ALPHABET, -1 for characters outside it.
_VALUE = np.full(256, -1, dtype=np.int8)
for _i, _c in enumerate(ALPHABET):
    _VALUE[ord(_c)] = _i
_ALPHABET_BYTES = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)

# Reasons returned by `problems`, in the words an import error shows.
REASON_LENGTH = "credit code must have 18 characters"
REASON_FORMAT = "credit code has a character outside GB 32100 (8 digits, then 0-9 and A-Y without I O S V Z)"
REASON_CHECK = "credit code check digit is wrong"


def is_valid(code: str) -> bool:
    """Whether one code is valid (python-stdnum: length, format and check digit)."""
    return _stdnum_uscc.is_valid(code)


def compact(code: str) -> str:
    """One code without spaces or dashes, upper case (python-stdnum's normal form)."""
    return _stdnum_uscc.compact(code)


def compact_column(codes: pl.Series | pl.Expr) -> pl.Series | pl.Expr:
    """`compact` over a whole column: strip spaces and dashes, upper case."""
    if isinstance(codes, pl.Series):  # skip the rewrites no value needs (the usual case)
        if codes.str.contains(r"[\s\-]").any():
            codes = codes.str.replace_all(r"[\s\-]", "")
        return codes.str.to_uppercase() if codes.str.contains(r"[a-z]").any() else codes
    return codes.str.replace_all(r"[\s\-]", "").str.to_uppercase()


def _values(codes: pl.Series, width: int) -> np.ndarray:
    """An (n, width) int8 array of alphabet values (-1 outside it) for codes all `width` bytes long.

    The bytes come straight from the Arrow data buffer (no Python string per code); UTF-8 bytes of
    other characters are >= 0x80 and map to -1.
    """
    if codes.len() == 0:
        return np.empty((0, width), dtype=np.int8)
    arrow = codes.to_arrow().cast(pa.large_string())
    offsets = np.frombuffer(arrow.buffers()[1], dtype=np.int64)[arrow.offset : arrow.offset + len(arrow) + 1]
    data = np.frombuffer(arrow.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return _VALUE[data.reshape(-1, width)]


def _check_values(values: np.ndarray) -> np.ndarray:
    """The check value (0..30) for each row of 17 body values."""
    total = np.zeros(len(values), dtype=np.int32)
    for i, w in enumerate(WEIGHTS):  # 17 column operations, not a loop over codes
        total += values[:, i].astype(np.int32) * w
    return (31 - total % 31) % 31


def problems(codes: pl.Series) -> pl.Series:
    """For each code (already compacted), None when valid, else the reason it is not.

    Works on the whole column at once; nulls give None (a missing value is checked elsewhere).
    """
    codes = codes.cast(pl.String)
    kind = np.zeros(codes.len(), dtype=np.int8)  # 0 ok, 1 length, 2 format, 3 check digit
    present = codes.is_not_null().to_numpy()
    lengths = codes.str.len_bytes().fill_null(0).to_numpy()
    kind[present & (lengths != LENGTH)] = 1
    candidates = np.flatnonzero(present & (lengths == LENGTH))
    values = _values(codes if candidates.size == codes.len() else codes.gather(candidates), LENGTH)
    bad_format = (values.min(axis=1) < 0) | (values[:, :8].max(axis=1) > 9)
    check_ok = _check_values(values) == values[:, 17]  # meaningless where bad_format, which wins
    kind[candidates[bad_format]] = 2
    kind[candidates[~bad_format & ~check_ok]] = 3
    wrong = candidates[~bad_format & ~check_ok]
    expected = pl.repeat(None, codes.len(), dtype=pl.String, eager=True).alias("expected")
    if wrong.size:  # the expected character, only for the few codes that need it
        checks = _ALPHABET_BYTES[_check_values(values[~bad_format & ~check_ok])]
        expected = expected.scatter(wrong, _chars(checks))
    frame = pl.DataFrame({"kind": kind, "expected": expected})
    reason = (
        pl.when(pl.col("kind") == 1)
        .then(pl.lit(REASON_LENGTH))
        .when(pl.col("kind") == 2)
        .then(pl.lit(REASON_FORMAT))
        .when(pl.col("kind") == 3)
        .then(pl.format(REASON_CHECK + " (expected {})", "expected"))
        .otherwise(None)
    )
    return frame.select(reason.alias(codes.name)).to_series()


def _chars(ascii_bytes: np.ndarray) -> pl.Series:
    """A column of one-character strings from an array of ASCII bytes."""
    return pl.Series(np.frombuffer(ascii_bytes.tobytes(), dtype="S1").astype(str))


def valid_mask(codes: pl.Series) -> pl.Series:
    """True where a code is valid (vectorised equivalent of `is_valid` on compacted codes)."""
    return problems(codes).is_null() & codes.is_not_null()


def check_digit(body: str) -> str:
    """The check character for a 17-character body (python-stdnum)."""
    return _stdnum_uscc.calc_check_digit(body)


def make_uscc_one(body: str) -> str:
    """A valid code from a 17-character body."""
    if len(body) != 17 or body[:8] != body[:8].strip() or not body[:8].isdigit():
        raise ValueError(f"credit code body must be 8 digits then 9 characters: {body!r}")
    if any(c not in ALPHABET for c in body):
        raise ValueError(f"credit code body has a character outside GB 32100: {body!r}")
    return body + check_digit(body)


def make_uscc(bodies: pl.Series) -> pl.Series:
    """Valid codes from 17-character bodies, over the whole column (for generators and tests)."""
    bodies = bodies.cast(pl.String)
    if bodies.null_count() or (bodies.str.len_bytes() != 17).any():
        raise ValueError("every credit code body must have 17 characters")
    values = _values(bodies, 17)
    if values.size and (values.min() < 0 or values[:, :8].max() > 9):
        raise ValueError("a credit code body has a character outside GB 32100")
    return (bodies + _chars(_ALPHABET_BYTES[_check_values(values)])).alias(bodies.name)
