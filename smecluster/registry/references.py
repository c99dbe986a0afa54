"""Foreign-key checks of an import against the database, on whole columns (anti-joins in Polars).

Each referenced table is read once (only the referenced column, and the looked-up one); values of
the file that are not found become errors naming row, column and value.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from sqlalchemy import Connection, text

from smecluster.registry.casts import split_codes
from smecluster.registry.import_kinds import ColumnSpec, Reference
from smecluster.registry.readers import ROW
from smecluster.registry.validate import ERROR_SCHEMA, Checked

_IDENT = r"^[a-z_][a-z0-9_]*$"


Fetch = Callable[[str], list[tuple]]
CHAIN_CATALOGUE = "chain_catalogue"  # a reference to the chain catalogue, not to a table


def _known(conn: Connection | Fetch, ref: Reference) -> pl.DataFrame:
    """The referenced column (as `key`) and, for a look-up, the value to store (as `found`)."""
    if ref.table == CHAIN_CATALOGUE:  # chains and links: shipped maps and those imported (chain_document)
        from smecluster.chains.catalogue import catalogue_keys

        fetch = conn if callable(conn) else (lambda sql: conn.execute(text(sql)).fetchall())
        return pl.DataFrame({"key": catalogue_keys(fetch, ref.column)}, schema={"key": pl.String})
    for name in (ref.table, ref.column, ref.lookup or ref.column):
        if not pl.Series([name]).str.contains(_IDENT).item():
            raise ValueError(f"bad identifier in import_kinds.yaml: {name!r}")
    cols = f"{ref.column}, {ref.lookup}" if ref.lookup else ref.column
    sql = f"SELECT {cols} FROM {ref.table}" + (f" WHERE {ref.where}" if ref.where else "")
    rows = conn(sql) if callable(conn) else conn.execute(text(sql)).fetchall()
    schema = {"key": pl.String} | ({"found": pl.Int64} if ref.lookup else {})
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame


def _file_values(checked: Checked, spec: ColumnSpec) -> pl.DataFrame:
    """(row, value) pairs of one column that passed the type checks, code lists exploded."""
    bad = checked.errors.filter(pl.col("column") == spec.header)[ROW]
    if spec.type == "code_list":
        values = split_codes(checked.raw[spec.header])
    else:
        values = checked.typed[spec.field].cast(pl.String)
    if spec.references is not None and spec.references.qualifier:
        qualifier = checked.typed[spec.references.qualifier].cast(pl.String)
        values = (qualifier + "/" + values).alias(spec.field)
    frame = pl.DataFrame({ROW: checked.typed[ROW], "key": values}).filter(~pl.col(ROW).is_in(bad.implode()))
    if spec.type == "code_list":
        frame = frame.explode("key")
    return frame.drop_nulls("key")


def check_references(conn: Connection | Fetch, checked: Checked) -> None:
    """Add an error for every value whose referenced row does not exist; resolve look-ups (e.g. id).

    `conn` is a connection, or a function running a query in the caller's transaction (folder import).
    """
    if checked.file_level() or checked.typed.is_empty():
        return
    for spec in checked.columns:
        ref = spec.references
        if ref is None:
            continue
        known = _known(conn, ref)
        if ref.self:
            own = checked.typed.select(pl.col(ref.column).cast(pl.String).alias("key")).drop_nulls()
            known = pl.concat([known, own], how="diagonal")
        values = _file_values(checked, spec)
        missing = values.join(known.select("key"), on="key", how="anti")
        checked.add_errors(
            missing.select(
                pl.col(ROW),
                pl.lit(spec.header).alias("column"),
                pl.col("key").alias("value"),
                pl.lit(ref.missing).alias("reason"),
            ).cast(ERROR_SCHEMA)
        )
        if ref.lookup:
            lookup = known.unique("key")
            resolved = checked.typed.select(pl.col(spec.field).cast(pl.String).alias("key")).join(
                lookup, on="key", how="left", maintain_order="left"
            )["found"]
            checked.typed = checked.typed.with_columns(resolved.alias(spec.field))
