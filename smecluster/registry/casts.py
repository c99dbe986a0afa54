"""Typing one column of strings, vectorised: the typed values and, per row, why a value is bad.

Each caster takes the column (a Polars Series of strings, nulls for blank cells) and returns the typed
Series and a Series of reasons (null where the value is good or blank). Nothing loops over rows:
choice words are matched over the column's distinct values only.
"""

from __future__ import annotations

import polars as pl

from smecluster.registry import uscc
from smecluster.registry.import_kinds import FALSE_WORDS, TRUE_WORDS, ColumnSpec, normalise_value
from smecluster.safe_text import CONTROL_CLASS

DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d")  # after / . 年 月 are made - and 日 dropped
YEAR_RANGE = (1900, 2100)
LIST_SEPARATORS = r"[;；,，、\s]+"

Cast = tuple[pl.Series, pl.Series]
CONTROL_REASON = "contains a control character (NUL, BEL, ESC, ...): remove it"


def _reasons(s: pl.Series, *pairs: tuple[pl.Series, str]) -> pl.Series:
    """The first reason whose mask is true, per row (null when none is)."""
    if not pairs:
        return pl.repeat(None, len(s), dtype=pl.String, eager=True).alias(s.name)
    frame = pl.DataFrame({f"m{i}": m.fill_null(False) for i, (m, _) in enumerate(pairs)})
    expr = pl.lit(None, dtype=pl.String)
    for i, (_, reason) in reversed(list(enumerate(pairs))):
        expr = pl.when(pl.col(f"m{i}")).then(pl.lit(reason)).otherwise(expr)
    return frame.select(expr.alias(s.name)).to_series()


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _bounds(spec: ColumnSpec, f: pl.Series) -> list[tuple[pl.Series, str]]:
    out = []
    if spec.min is not None:
        word = "negative: must be 0 or more" if spec.min == 0 else f"must be {_fmt(spec.min)} or more"
        out.append((f < spec.min, word))
    if spec.max is not None:
        out.append((f > spec.max, f"must be {_fmt(spec.max)} or less"))
    return out


def cast_number(spec: ColumnSpec, s: pl.Series) -> Cast:
    """Decimal numbers; thousands separators allowed; NaN and infinities refused."""
    f = s.str.replace_all(r"[,，\s]", "").cast(pl.Float64, strict=False)
    bad = s.is_not_null() & (f.is_null() | f.is_nan() | f.is_infinite())
    f = f.set(bad.fill_null(False), None) if bad.any() else f
    return f, _reasons(s, (bad, "not a number"), *_bounds(spec, f))


def cast_int(spec: ColumnSpec, s: pl.Series, noun: str = "whole number") -> Cast:
    """Whole numbers (12, 12.0 and 1,200 accepted; 12.5 refused)."""
    f = s.str.replace_all(r"[,，\s]", "").cast(pl.Float64, strict=False)
    not_number = s.is_not_null() & (f.is_null() | f.is_nan() | f.is_infinite())
    fractional = ~not_number & (f.floor() != f)
    good = ~(not_number | fractional).fill_null(False)
    values = f.set(~good, None).cast(pl.Int64, strict=False)
    wrong = (not_number, f"not a {noun}"), (fractional, f"not a {noun}")
    return values, _reasons(s, *wrong, *_bounds(spec, f))


def cast_year(spec: ColumnSpec, s: pl.Series) -> Cast:
    """A four-digit year within YEAR_RANGE."""
    values, reasons = cast_int(spec, s, noun="year")
    outside = (values < YEAR_RANGE[0]) | (values > YEAR_RANGE[1])
    reasons = reasons.fill_null(_reasons(s, (outside, f"year must be {YEAR_RANGE[0]}-{YEAR_RANGE[1]}")))
    return values.cast(pl.Int32), reasons


def cast_date(spec: ColumnSpec, s: pl.Series) -> Cast:
    """Dates in the usual Chinese forms (2023-03-31, 2023/3/31, 2023.3.31, 20230331, 2023年3月31日)."""
    if s.str.contains(r"[/.年月日T ]").any():  # rewrite only when some value needs it
        s_ = s.str.replace(r"[ T]00:00:00$", "").str.replace_all(r"[/.年月]", "-").str.strip_suffix("日")
    else:
        s_ = s
    parsed = s_.str.to_date(DATE_FORMATS[0], strict=False)
    for fmt in DATE_FORMATS[1:]:
        left = s_.is_not_null() & parsed.is_null()
        if left.any():
            parsed = parsed.zip_with(~left, s_.str.to_date(fmt, strict=False))
    bad = s.is_not_null() & parsed.is_null()
    return parsed.alias(s.name), _reasons(s, (bad, "not a date (use YYYY-MM-DD)"))


def _choices(s: pl.Series, mapping: dict[str, object], dtype: pl.DataType) -> pl.Series:
    """Map each distinct value through `mapping` (normalised words), then the column by join."""
    distinct = s.drop_nulls().unique()
    table = pl.DataFrame(
        {"v": distinct, "out": [mapping.get(normalise_value(v)) for v in distinct]},
        schema={"v": pl.String, "out": dtype},
    )
    return pl.DataFrame({"v": s}).join(table, on="v", how="left", maintain_order="left")["out"].alias(s.name)


def cast_bool(spec: ColumnSpec, s: pl.Series) -> Cast:
    """是/否, Y/N, yes/no, 1/0, true/false."""
    mapping: dict[str, object] = {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS}
    values = _choices(s, mapping, pl.Boolean)
    return values, _reasons(s, (s.is_not_null() & values.is_null(), "not 是/否 (yes/no, Y/N, 1/0)"))


def cast_enum(spec: ColumnSpec, s: pl.Series) -> Cast:
    """One of the listed choices, by its Chinese label or its English code."""
    values = _choices(s, spec.enum_labels(), pl.String)
    allowed = " / ".join(labels[0] for labels in (spec.values or {}).values())
    return values, _reasons(s, (s.is_not_null() & values.is_null(), f"not one of: {allowed}"))


def cast_text(spec: ColumnSpec, s: pl.Series) -> Cast:
    """Free text (max_length) or a code (pattern; letters upper-cased).

    A leading apostrophe before a formula trigger (= + - @) is the quote our own exports add
    (safe_text) and spreadsheets hide: it is dropped, so an export imports back unchanged.
    """
    values = s.str.to_uppercase() if spec.type == "code" else s
    values = values.str.replace(r"^'([=+\-@\t\r])", "$1")
    checks = []
    if spec.max_length:
        checks.append((values.str.len_chars() > spec.max_length, f"longer than {spec.max_length} characters"))
    if spec.pattern:
        checks.append((~values.str.contains(spec.pattern), f"not a valid code ({_pattern_words(spec)})"))
    return values, _reasons(s, *checks)


def cast_uscc(spec: ColumnSpec, s: pl.Series) -> Cast:
    """A unified social credit code: compacted, then length, characters and check digit."""
    values = uscc.compact_column(s)
    return values, uscc.problems(values).alias(s.name)


def split_codes(s: pl.Series) -> pl.Series:
    """A code_list column as lists of upper-cased codes (separators ; , 、 or spaces)."""
    unified = s.str.to_uppercase().str.replace_all(LIST_SEPARATORS, ";").str.strip_chars(";")
    return unified.str.split(";")


def cast_code_list(spec: ColumnSpec, s: pl.Series) -> Cast:
    """Codes separated by ; , 、 or spaces, each matching the pattern; stored as a JSON list."""
    lists = split_codes(s)
    ok = lists.list.eval(pl.element().str.contains(spec.pattern or ".")).list.all()
    frame = pl.DataFrame({"j": lists.list.join('","')})
    values = frame.select(pl.format('["{}"]', "j")).to_series()  # codes need no JSON escaping
    bad = s.is_not_null() & ~ok
    return values.alias(s.name), _reasons(s, (bad, f"not a list of codes ({_pattern_words(spec)})"))


def _pattern_words(spec: ColumnSpec) -> str:
    return {
        r"^\d{6}$": "6 digits",
        r"^\d{2,4}$": "2 to 4 digits",
        r"^[A-T]$": "a letter A-T",
    }.get(spec.pattern or "", f"pattern {spec.pattern}")


CASTERS = {
    "text": cast_text,
    "code": cast_text,
    "int": cast_int,
    "number": cast_number,
    "year": cast_year,
    "date": cast_date,
    "bool": cast_bool,
    "enum": cast_enum,
    "uscc": cast_uscc,
    "code_list": cast_code_list,
    "boundary": cast_text,  # a file name or GeoJSON text; read by registry.boundaries after the checks
}


def cast_column(spec: ColumnSpec, s: pl.Series) -> Cast:
    """Typed values and reasons for one column; a blank required value is a reason too."""
    values, reasons = CASTERS[spec.type](spec, s)
    control = s.str.contains(CONTROL_CLASS)
    if control.any():  # NUL cannot be stored by PostgreSQL, ESC/BEL cannot be written to .xlsx
        reasons = _reasons(s, (control, CONTROL_REASON)).fill_null(reasons)
        values = values.set(control.fill_null(False), None)
    if spec.required and s.null_count():
        missing = _reasons(s, (s.is_null(), "required value is missing"))
        reasons = missing.fill_null(reasons)
    return values, reasons
