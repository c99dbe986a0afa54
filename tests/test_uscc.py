"""Credit codes: the vectorised check equals python-stdnum; generated codes are valid."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from stdnum.cn import uscc as stdnum_uscc

from smecluster.registry import uscc


def _random_bodies(n: int, seed: int) -> pl.Series:
    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(uscc.ALPHABET.encode(), dtype=np.uint8)
    digits = rng.integers(0, 10, (n, 8)) + ord("0")
    rest = alphabet[rng.integers(0, 31, (n, 9))]
    body = np.concatenate([digits, rest], axis=1).astype(np.uint8)
    return pl.Series(np.frombuffer(body.tobytes(), dtype="S17").astype(str))


def _corrupt(codes: pl.Series, seed: int) -> list[str]:
    """Codes with one character replaced, one dropped, a foreign letter, or lower case."""
    rng = np.random.default_rng(seed)
    out = []
    pool = uscc.ALPHABET + "IOSVZ-a中 "
    for i, code in enumerate(codes.to_list()):
        pos = int(rng.integers(0, 18))
        how = i % 4
        if how == 0:
            out.append(code[:pos] + pool[int(rng.integers(0, len(pool)))] + code[pos + 1 :])
        elif how == 1:
            out.append(code[:pos] + code[pos + 1 :])
        elif how == 2:
            out.append(code[:pos] + "IOSVZ"[int(rng.integers(0, 5))] + code[pos + 1 :])
        else:
            out.append(code[:pos] + code[pos:].lower())
    return out


def test_make_uscc_gives_codes_stdnum_accepts():
    """Codes made from random bodies all pass python-stdnum."""
    codes = uscc.make_uscc(_random_bodies(5000, seed=1))
    assert all(stdnum_uscc.is_valid(c) for c in codes.to_list())


def test_vectorised_check_equals_stdnum_on_valid_and_corrupted_codes():
    """On thousands of valid and corrupted codes the column check agrees with python-stdnum."""
    valid = uscc.make_uscc(_random_bodies(4000, seed=2))
    codes = valid.to_list() + _corrupt(valid, seed=3)
    compacted = uscc.compact_column(pl.Series(codes))
    vectorised = uscc.valid_mask(compacted).to_list()
    assert vectorised == [stdnum_uscc.is_valid(c) for c in codes]
    assert 0 < sum(vectorised) < len(codes)


def test_wrong_check_digit_names_the_expected_one():
    """A wrong check digit is reported with the character that would be right."""
    good = uscc.make_uscc_one("91320481MA1P00001")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert uscc.problems(pl.Series([wrong])).item() == f"{uscc.REASON_CHECK} (expected {good[-1]})"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("9132048", uscc.REASON_LENGTH),
        ("A1320481MA1P00001X", uscc.REASON_FORMAT),
        ("91320481MA1P0000IX", uscc.REASON_FORMAT),
    ],
)
def test_length_and_characters_have_their_own_reason(code, reason):
    """Short codes and codes with characters outside GB 32100 get a reason of their own."""
    assert uscc.problems(pl.Series([code])).item() == reason


def test_make_uscc_one_refuses_a_bad_body():
    """A body with a letter among the first 8 characters cannot become a code."""
    with pytest.raises(ValueError):
        uscc.make_uscc_one("9132048AMA1P00001")


def test_make_uscc_matches_the_single_version():
    """The column version and the single version give the same code."""
    bodies = _random_bodies(50, seed=4)
    assert uscc.make_uscc(bodies).to_list() == [uscc.make_uscc_one(b) for b in bodies.to_list()]
