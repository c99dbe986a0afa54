"""Store a generated demo registry in the database, in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator

import polars as pl
from sqlalchemy import Engine, delete, func, insert, select

import smecluster.models  # noqa: F401  (every table on Base.metadata, workflow included)
from smecluster.db import Base
from smecluster.demo.generator import DemoData
from smecluster.demo.tier_profiles import tier_profile_years
from smecluster.registry.industries import load_shipped_industries
from smecluster.registry.models import Cluster, ClusterMember, ClusterYear, Enterprise, Platform
from smecluster.registry.regions import load_regions
from smecluster.registry.store import bulk_load, in_key_order

CHUNK = 20_000


class RealDataPresent(RuntimeError):
    """The database holds real (non-fictional) enterprises: the demo will not overwrite them."""


# Rebuilding the demo keeps reference data, accounts and the (append-only) audit trail.
KEEP_TABLES = {"region", "industry", "account", "login_session", "security_setting", "audit_entry", "registry_version",
               "chain_document"}


def _columns(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame's columns that the table has (the generator's helper columns left out)."""
    names = set(Base.metadata.tables[table].columns.keys())
    return frame.select([c for c in frame.columns if c in names])


def clear_demo(engine: Engine) -> None:
    """Remove the registry's and the workflow's rows, provided every enterprise is fictional."""
    with engine.begin() as conn:
        real = conn.execute(select(func.count()).where(Enterprise.fictional.is_(False))).scalar()
        if real:
            raise RealDataPresent(f"the database holds {real} real enterprises; use another --db for the demo")
        # Children before parents: the reverse of the foreign-key order.
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in KEEP_TABLES:
                conn.execute(delete(table))


def _insert(conn, model, frame: pl.DataFrame) -> None:
    for start in range(0, frame.height, CHUNK):
        conn.execute(insert(model), frame.slice(start, CHUNK).to_dicts())


# The big tables and their natural keys: written by the import's bulk loader (Arrow/COPY), not row by row.
BULK = (("enterprise", ["uscc"]), ("enterprise_year", ["uscc", "year"]), ("designation", ["uscc", "kind", "year"]),
        ("enterprise_profile", ["uscc", "year"]))


def write_demo(engine: Engine, data: DemoData) -> dict[str, int]:
    """Reference data, then the demo registry; returns row counts per table.

    Firms, their years, designations and profiles go through the import's bulk loader
    (smecluster.registry.store.bulk_load, a first load): on PostgreSQL in the one transaction of the
    whole write, on SQLite in one transaction of ADBC's own connection; clusters and platforms after
    them. The profiles are made one year at a time as they are written (on SQLite in a second thread,
    while the tables before them are written).
    """
    load_regions(engine, "32")
    load_shipped_industries(engine)
    clear_demo(engine)
    # The yearly rows in key order once, here (the loader then writes them as they are), the unsorted
    # copy released: `data.enterprise_year` is replaced by its rows sorted by firm and year. The profiles
    # (the widest table) are made and written one year at a time: one year's rows held, not four.
    data.enterprise_year = in_key_order(data.enterprise_year, ["uscc", "year"])

    def profiles() -> Iterator[pl.DataFrame]:
        for part in tier_profile_years(data.enterprise, data.enterprise_year, data.designation, data.year):
            yield _columns("enterprise_profile", part)

    frames = {"enterprise": data.enterprise, "enterprise_year": data.enterprise_year,
              "designation": data.designation}
    tables = [(t, _columns(t, frames[t]) if t in frames else profiles, key) for t, key in BULK]
    if engine.dialect.name == "sqlite":
        engine.dispose()  # no sqlite3 connection open while ADBC's SQLite writes (see importer.import_file)
        # the profiles go in from a second thread (made there too) while the other tables are written
        counts = bulk_load(engine, tables, beside=frozenset({"enterprise_profile"}))
    with engine.begin() as conn:
        if engine.dialect.name != "sqlite":
            counts = bulk_load(conn, tables)
        clusters = data.cluster.with_columns(
            pl.col("leading_industries").str.json_decode(pl.List(pl.Utf8)),
            pl.lit(True).alias("fictional"),
        )
        rows = clusters.to_dicts()
        for r in rows:
            r["declared"] = json.loads(r["declared"])
        conn.execute(insert(Cluster), rows)
        ids = dict(conn.execute(select(Cluster.code, Cluster.id)).all())
        members = data.cluster_member.with_columns(
            pl.col("cluster_code").replace_strict(ids, return_dtype=pl.Int64).alias("cluster_id")
        ).select("cluster_id", "uscc")
        _insert(conn, ClusterMember, members)
        platforms = data.platform.with_columns(
            pl.col("cluster_code").replace_strict(ids, default=None, return_dtype=pl.Int64).alias("cluster_id")
        ).drop("cluster_code")
        _insert(conn, Platform, platforms)
        if data.cluster_year is not None:
            cluster_years = data.cluster_year.with_columns(
                pl.col("cluster_code").replace_strict(ids, return_dtype=pl.Int64).alias("cluster_id")
            ).drop("cluster_code")
            _insert(conn, ClusterYear, cluster_years)
    return {
        "enterprise": data.enterprise.height,
        "enterprise_year": data.enterprise_year.height,
        "designation": data.designation.height,
        "enterprise_profile": counts["enterprise_profile"],
        "platform": data.platform.height,
        "cluster": data.cluster.height,
        "cluster_member": data.cluster_member.height,
    }
