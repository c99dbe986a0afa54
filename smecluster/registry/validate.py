"""Checking an import file against its kind: headers, then every value, then duplicate keys.

All row checks run on whole columns (see casts.py). Problems are rows of an error frame:
`_row` (the row number the user sees, null for a problem with the file as a whole), `column` (the
header), `value` (as typed) and `reason`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from smecluster.registry.casts import cast_column
from smecluster.registry.import_kinds import ColumnSpec, ImportKind, normalise_header, suggest
from smecluster.registry.readers import ROW, Grid

HEADER_SCAN_ROWS = 10
ERROR_SCHEMA = {ROW: pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}


def error_frame(rows: list[tuple[int | None, str | None, str | None, str]]) -> pl.DataFrame:
    """An error frame from (row, column, value, reason) tuples."""
    return pl.DataFrame(rows, schema=ERROR_SCHEMA, orient="row")


@dataclass
class Checked:
    """A file after checking: raw cells by header, typed values by field, every problem found."""

    kind: ImportKind
    raw: pl.DataFrame  # _row + one column per recognised header, as typed
    typed: pl.DataFrame  # _row + one column per field present, typed
    columns: list[ColumnSpec]  # the columns present in the file
    errors: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # known header -> the header as in the file
    notices: pl.DataFrame = field(default_factory=lambda: error_frame([]))  # row remarks, not problems

    def add_errors(self, more: pl.DataFrame) -> None:
        """Append problems found later (e.g. by the reference checks)."""
        self.errors = pl.concat([self.errors, more.cast(ERROR_SCHEMA)], how="vertical")

    def bad_rows(self) -> pl.Series:
        """Row numbers with at least one problem."""
        return self.errors[ROW].drop_nulls().unique()

    def file_level(self) -> bool:
        """Whether some problem concerns the file as a whole (then no row can be stored)."""
        return self.errors[ROW].null_count() > 0


def _header_row(grid: Grid, kind: ImportKind) -> int | None:
    """Index (in the grid) of the row that carries the most known headers among the first rows."""
    names = kind.names()
    cells = [c for c in grid.frame.columns if c != ROW]
    best, best_hits = None, 0
    for i, row in enumerate(grid.frame.head(HEADER_SCAN_ROWS).select(cells).iter_rows()):
        hits = sum(1 for v in row if v is not None and normalise_header(v) in names)
        if hits > best_hits:
            best, best_hits = i, hits
    return best


def _map_headers(
    kind: ImportKind, headers: dict[str, str | None]
) -> tuple[dict[str, ColumnSpec], list[tuple], list[str]]:
    """Grid column -> column spec; header problems; warnings for ignored columns."""
    names = kind.names()
    mapping: dict[str, ColumnSpec] = {}
    seen: dict[str, str] = {}
    problems: list[tuple] = []
    warnings: list[str] = []
    for cell, text in headers.items():
        if text is None:
            continue
        spec = names.get(normalise_header(text))
        if spec is None:
            hint = suggest(kind, text)
            if hint:
                problems.append((None, text, text, f"unknown column: did you mean {hint}?"))
            else:
                warnings.append(f"column {text!r} is not part of {kind.name} and was ignored")
            continue
        if spec.field in seen:
            problems.append(
                (None, text, text, f"column {spec.header} appears twice (also as {seen[spec.field]!r})")
            )
            continue
        seen[spec.field] = text
        mapping[cell] = spec
    for spec in kind.columns:
        if spec.required and spec.field not in seen:
            problems.append(
                (None, spec.header, None, f"missing required column {spec.header} ({spec.english})")
            )
    return mapping, problems, warnings


def _empty(kind: ImportKind, reason: str) -> Checked:
    errors = error_frame([(None, None, None, reason)])
    return Checked(kind, pl.DataFrame(), pl.DataFrame(), [], errors)


def check_grid(grid: Grid, kind: ImportKind) -> Checked:
    """Headers, values and duplicate keys of a file; every problem is collected, none raised."""
    if grid.frame.height == 0:
        return _empty(
            kind, f"the file is empty: expected a header row ({kind.columns[0].header}, ...) and data"
        )
    header_index = _header_row(grid, kind)
    if header_index is None:
        expected = ", ".join(c.header for c in kind.columns if c.required)
        return _empty(
            kind, f"no known column headers in the first {HEADER_SCAN_ROWS} rows; expected {expected}"
        )
    header_cells = grid.frame.row(header_index, named=True)
    header_cells.pop(ROW)
    mapping, problems, warnings = _map_headers(kind, header_cells)
    labels = {spec.header: header_cells[cell] for cell, spec in mapping.items()}
    data = grid.frame.slice(header_index + 1)
    if data.height == 0:
        problems.append((None, None, None, "the file has a header row but no data rows"))
    raw = data.select([pl.col(ROW).cast(pl.Int64)] + [pl.col(c).alias(s.header) for c, s in mapping.items()])
    columns = list(mapping.values())
    if problems:
        return Checked(kind, raw, pl.DataFrame(), columns, error_frame(problems), warnings, labels)
    typed_cols = [raw[ROW]]
    found = []
    for spec in columns:
        values, reasons = cast_column(spec, raw[spec.header])
        typed_cols.append(values.alias(spec.field))
        found.append(
            pl.DataFrame({ROW: raw[ROW], "value": raw[spec.header], "reason": reasons})
            .filter(pl.col("reason").is_not_null())
            .with_columns(column=pl.lit(spec.header))
        )
    typed = pl.DataFrame(typed_cols)
    errors = pl.concat([error_frame([]), *[f.select(ERROR_SCHEMA.keys()) for f in found]], how="vertical")
    checked = Checked(kind, raw, typed, columns, errors.cast(ERROR_SCHEMA), warnings, labels)
    checked.add_errors(duplicate_keys(checked))
    checked.add_errors(row_rules(checked))
    year_validity(checked)
    return checked


def year_validity(checked: Checked) -> None:
    """Fill blank validity dates from the year (the kind's year_validity) and note each row so filled.

    Only blank cells are filled: a bad date stays an error. Notices name the row, the dates and why.
    """
    v = checked.kind.year_validity
    present = {c.field for c in checked.columns}
    if v is None or v.year not in present or checked.typed.is_empty():
        return
    kind, raw = checked.kind, checked.raw

    def blank(field: str) -> pl.Expr:
        return pl.col(kind.column(field).header).is_null() if field in present else pl.lit(True)

    def given(field: str) -> pl.Expr:
        return pl.col(field) if field in present else pl.lit(None, dtype=pl.Date)

    flags = raw.select(ROW, blank(v.from_).alias("_bf"), blank(v.until).alias("_bu"))
    typed = checked.typed.join(flags, on=ROW, how="left", maintain_order="left")
    year = pl.col(v.year)
    start = pl.when(pl.col("_bf") & year.is_not_null()).then(pl.date(year, 1, 1)).otherwise(given(v.from_))
    typed = typed.with_columns(start.alias(v.from_))
    typed = typed.join(_derived_ends(typed, v), on=[v.kind, v.from_], how="left", maintain_order="left")
    end = pl.when(pl.col("_bu") & pl.col(v.from_).is_not_null()).then(pl.col("_end")).otherwise(given(v.until))
    typed = typed.with_columns(end.alias(v.until))
    derived = (pl.col("_bf") | pl.col("_bu")) & year.is_not_null() & pl.col(v.from_).is_not_null()
    from_header, until_header = kind.column(v.from_).header, kind.column(v.until).header
    span = pl.format("{} .. {}", pl.col(v.from_), pl.col(v.until))
    why = (
        pl.when(pl.col("_bf") & pl.col("_bu"))
        .then(pl.format("only the year was given: validity taken as {} ({} years from 1 January of {})",
                        span, pl.col("_years"), year))
        .when(pl.col("_bf"))
        .then(pl.format("no first day given: taken as 1 January of {}", year))
        .otherwise(pl.format("no last day given: taken as {} ({} years)", span, pl.col("_years")))
    )
    notices = typed.filter(derived).select(
        ROW, pl.lit(f"{from_header} / {until_header}").alias("column"), span.alias("value"), why.alias("reason")
    )
    checked.typed = typed.drop("_bf", "_bu", "_end", "_years")
    for name in (v.from_, v.until):
        if name not in present:
            checked.columns.append(kind.column(name))
    checked.notices = pl.concat([checked.notices, notices.cast(ERROR_SCHEMA)], how="vertical")


def _derived_ends(typed: pl.DataFrame, v) -> pl.DataFrame:
    """Last valid day of each distinct (kind, first day), by the one validity rule (policy/validity.py).

    Computed once per distinct pair (a few dozen), not per row.
    """
    from smecluster.policy.validity import derived_end, validity_years

    pairs = typed.select(v.kind, v.from_).unique().drop_nulls()
    ends, years = [], []
    for kind, start in pairs.iter_rows():
        try:
            ends.append(derived_end(kind, start))
            years.append(validity_years(kind, start))
        except ValueError:  # an unknown kind is already a row error
            ends.append(None)
            years.append(None)
    return pairs.with_columns(pl.Series("_end", ends, dtype=pl.Date), pl.Series("_years", years, dtype=pl.Int64))


def row_rules(checked: Checked) -> pl.DataFrame:
    """Problems with the kind's checks across two columns of a row (see RowRule)."""
    kind, raw, typed = checked.kind, checked.raw, checked.typed
    present = {c.field: c.header for c in checked.columns}
    found = [error_frame([])]
    for rule in kind.rules:
        if rule.left not in present and rule.right not in present:
            continue
        left, right = kind.column(rule.left).header, kind.column(rule.right).header

        def filled(field: str, header: str) -> pl.Expr:
            return pl.col(header).is_not_null() if field in present else pl.lit(False)

        if rule.rule == "together":
            frame = raw.with_columns(a=filled(rule.left, left), b=filled(rule.right, right))
            bad = frame.filter(pl.col("a") != pl.col("b")).select(
                ROW,
                pl.when(pl.col("a")).then(pl.lit(right)).otherwise(pl.lit(left)).alias("column"),
                pl.lit(None, dtype=pl.String).alias("value"),
                pl.lit(rule.reason).alias("reason"),
            )
        else:
            if rule.left not in present or rule.right not in present:
                continue
            bad = typed.filter(pl.col(rule.left) > pl.col(rule.right)).select(
                ROW,
                pl.lit(left).alias("column"),
                pl.format(
                    "{} > {}", pl.col(rule.left).cast(pl.String), pl.col(rule.right).cast(pl.String)
                ).alias("value"),
                pl.lit(rule.reason).alias("reason"),
            )
        found.append(bad.cast(ERROR_SCHEMA))
    return pl.concat(found, how="vertical")


def duplicate_keys(checked: Checked) -> pl.DataFrame:
    """Rows whose natural key appears more than once in the file, each naming the other rows."""
    kind, typed = checked.kind, checked.typed
    key = kind.key
    keyed = typed.select([ROW, *key]).drop_nulls(key)
    whole_key = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    if keyed.select(whole_key.n_unique()).item() == keyed.height:  # the usual case, and a cheap test
        return error_frame([])
    keyed = keyed.filter(whole_key.is_duplicated())
    groups = keyed.group_by(key).agg(pl.col(ROW).alias("rows")).filter(pl.col("rows").list.len() > 1)
    if groups.height == 0:
        return error_frame([])
    header = " + ".join(kind.column(k).header for k in key)
    shown = pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=" / ")
    return (
        groups.with_columns(value=shown, all_rows=pl.col("rows").list.sort())
        .explode("rows")
        .select(
            pl.col("rows").alias(ROW),
            pl.lit(header).alias("column"),
            "value",
            pl.format(
                "duplicate key: the same {} is in rows {}",
                pl.lit(header),
                pl.col("all_rows").cast(pl.List(pl.String)).list.join(", "),
            ).alias("reason"),
        )
        .sort(ROW)
    )
