"""Progress towards the province's targets (a pack of kind `targets`), by year, city and county.

Counts are SQL over the registry (DuckDB over Polars frames). Projection method: an ordinary
least-squares line through the yearly counts (year-end stock of valid designations, or the
cumulative number of recognised clusters since the target's start), read at the deadline year.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import polars as pl
from sqlalchemy import Engine

from smecluster.analytics.enterprise_facts import typed
from smecluster.analytics.reader import read_frame
from smecluster.analytics.stored_snapshot import arrow_schema, current_snapshot
from smecluster.policy.pack import Pack, Target, packs_of_kind
from smecluster.policy.tiers import tier
from smecluster.policy.validity import held_sql

PROJECTION_METHOD = "least-squares line through the yearly counts, read at the deadline year"
CLUSTER_STATUSES = ("recognised", "re_review")
COMPARE = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal, "==": np.equal}


def targets_pack(on: date | None = None) -> Pack:
    """The newest targets pack whose period covers `on` (or the newest of all)."""
    packs = packs_of_kind("targets")
    if not packs:
        raise LookupError("no targets pack shipped")
    if on is None:
        return packs[-1]
    live = [p for p in packs if p.effective_from <= on and (p.effective_to is None or on <= p.effective_to)]
    return (live or packs)[-1]


def _frames(engine: Engine) -> dict[str, pl.DataFrame]:
    queries = {
        "designation": "SELECT uscc, kind, year, valid_from, valid_until FROM designation",
        "enterprise": "SELECT uscc, county_code FROM enterprise",
        "region": "SELECT code, name, level, parent_code FROM region",
        "cluster": "SELECT county_code, status, year FROM cluster",
    }
    stored = current_snapshot(engine)
    if stored is not None:  # province-sized: the snapshot's columns
        con = stored.connect()
        frames = {k: con.sql(q).pl() for k, q in queries.items()}
        con.close()
        return frames
    return {k: typed(read_frame(engine, q), arrow_schema(k)) for k, q in queries.items()}


def _yearly(con: duckdb.DuckDBPyConnection, t: Target, years: list[int], by: str | None) -> pl.DataFrame:
    """Count per year (and per region when `by` is city or county) of what target `t` measures."""
    region = {"county": "r.code", "city": "COALESCE(r.parent_code, r.code)"}.get(by or "", "'all'")
    yrs = ", ".join(f"({y})" for y in years)
    kind, _, what = t.measure.partition(":")
    if kind == "designated":
        tier(what)
        sql = f"""
        SELECT y.year, {region} AS region, COUNT(DISTINCT d.uscc) AS count
        FROM (VALUES {yrs}) AS y(year)
        JOIN designation d ON d.kind = '{what}'
          AND {held_sql("MAKE_DATE(y.year, 12, 31)", "d")}
        JOIN enterprise e ON e.uscc = d.uscc
        LEFT JOIN region r ON r.code = e.county_code
        WHERE e.county_code LIKE '{t.scope}%'
        GROUP BY ALL ORDER BY 1, 2"""
    elif t.measure == "clusters:recognised":
        start = t.period_from.year if t.period_from else 0
        statuses = ", ".join(f"'{s}'" for s in CLUSTER_STATUSES)
        sql = f"""
        SELECT y.year, {region} AS region, COUNT(*) AS count
        FROM (VALUES {yrs}) AS y(year)
        JOIN cluster c ON c.status IN ({statuses}) AND c.year BETWEEN {start} AND y.year
        LEFT JOIN region r ON r.code = c.county_code
        WHERE c.county_code LIKE '{t.scope}%'
        GROUP BY ALL ORDER BY 1, 2"""
    else:
        raise ValueError(f"target {t.id}: unknown measure {t.measure!r}")
    return con.sql(sql).pl()


def projection(years: list[int], counts: list[float], deadline_year: int) -> dict:
    """Least-squares line through (year, count), read at the deadline year."""
    if len(years) < 2:
        value = counts[-1] if counts else 0.0
        return {"method": PROJECTION_METHOD, "slope_per_year": None, "at_deadline": value}
    slope, intercept = np.polyfit(np.asarray(years, float), np.asarray(counts, float), 1)
    return {"method": PROJECTION_METHOD, "slope_per_year": float(slope),
            "at_deadline": float(slope * deadline_year + intercept)}


def target_progress(engine: Engine, by: str | None = None, pack: Pack | None = None,
                    until: int | None = None) -> dict:
    """Every target of the pack: counts by year, current figure, projection, and by region if asked."""
    if by not in (None, "city", "county"):
        raise ValueError("by must be city or county")
    pack = pack or targets_pack()
    frames = _frames(engine)
    con = duckdb.connect()
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    names = dict(zip(frames["region"]["code"].to_list(), frames["region"]["name"].to_list(), strict=True))
    years_seen = pl.concat([frames["designation"]["year"].cast(pl.Int64), frames["cluster"]["year"].cast(pl.Int64)])
    years_seen = years_seen.filter(years_seen.is_not_null() & (years_seen != 0))
    last = until or (int(years_seen.max()) if years_seen.len() else date.today().year)
    earliest = int(years_seen.min()) if years_seen.len() else last
    out = []
    for t in pack.targets:
        first = t.period_from.year if t.period_from else max(earliest, last - 4)
        years = list(range(min(first, last), last + 1))
        per_year = _yearly(con, t, years, None)
        counts = dict(zip(per_year["year"].to_list(), per_year["count"].to_list(), strict=True))
        series = [{"year": y, "count": int(counts.get(y, 0))} for y in years]
        proj = projection(years, [s["count"] for s in series], t.deadline.year)
        current = series[-1]["count"] if series else 0
        entry = {
            "id": t.id, "title": t.title, "clause": t.clause, "measure": t.measure, "value": t.value,
            "comparator": t.comparator, "deadline": t.deadline.isoformat(), "scope": t.scope,
            "verified": t.verified, "note": t.note, "by_year": series, "current": current,
            "met": bool(COMPARE[t.comparator](current, t.value)), "projection": proj,
            "on_track": bool(COMPARE[t.comparator](proj["at_deadline"], t.value)),
            "share_of_target": current / t.value if t.value else None,
        }
        if by:
            regional = _yearly(con, t, [last], by).sort("count", descending=True)
            entry["by_region"] = [{"code": r, "name": names.get(r, r), "count": int(c)}
                                  for r, c in zip(regional["region"], regional["count"], strict=True)]
        out.append(entry)
    return {"pack": {"id": pack.id, "title": pack.title, "version": pack.version}, "year": last,
            "by": by, "method": PROJECTION_METHOD, "targets": out}
