"""Evaluation: a pack's criteria applied to an indicator table, giving verdicts with evidence.

Statuses are computed for all rows at once by the compiled SQL (policy.compile); this module
only assembles the evidence of each row into Verdict objects.
"""

from __future__ import annotations

import json

import duckdb
import polars as pl

from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.policy.compile import indicator_column, status_sql
from smecluster.policy.gaps import gap_text
from smecluster.policy.pack import Criterion, Pack
from smecluster.policy.validity import cluster_date
from smecluster.policy.verdict import CriterionResult, Verdict, outcome_of

# A declared figure differing from the registry's by more than this share is flagged.
DISCREPANCY_TOLERANCE = 0.05


def apply_declared(table: pl.DataFrame, declared: pl.Series, pack: Pack) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fill values the registry lacks from the application's declared figures.

    Returns the filled table and a table of the declared figures (one column per indicator).
    """
    parsed = [json.loads(d) if d else {} for d in declared.to_list()]
    columns = {
        indicator_column(c.indicator, c.params)
        for c in pack.all_criteria()
        if c.indicator is not None
    }
    declared_table = pl.DataFrame(
        {col: [_num(p.get(col.split("__")[0])) for p in parsed] for col in sorted(columns)},
        schema={col: pl.Float64 for col in sorted(columns)},
    )
    filled = table.with_columns(
        [
            pl.coalesce(pl.col(col), declared_table[col]).alias(col)
            for col in sorted(columns)
            if col in table.columns
        ]
    )
    return filled, declared_table


def _num(v) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def statuses(table: pl.DataFrame, pack: Pack, key: str, engine=None) -> pl.DataFrame:
    """One status column per criterion (named by criterion id), computed in SQL for every row (on
    `engine`, an analytics.engines.Engine; default a DuckDB connection of its own)."""
    selects = [f'"{key}"'] + [f"{status_sql(c)} AS \"{c.id}\"" for c in pack.all_criteria()]
    sql = f"SELECT {', '.join(selects)} FROM indicators ORDER BY \"{key}\""
    if engine is not None:
        engine.register("indicators", table)
        out = pl.from_arrow(engine.arrow(sql))
    else:
        con = duckdb.connect()
        con.register("indicators", table.to_arrow())
        out = con.sql(sql).pl()
    # in the table's row order (the key is unique)
    out = out.with_columns(pl.col(key).cast(table.schema[key]))
    return table.select(key).join(out, on=key, how="left", maintain_order="left")


def build_result(
    c: Criterion, row: dict, status_row: dict, declared_row: dict, context: dict
) -> CriterionResult:
    """The evidence of criterion `c` for one subject."""
    status = status_row[c.id]
    result = CriterionResult(
        id=c.id, title=c.title, clause=c.clause, source=c.source, status=status,
        verified=c.verified, soft=c.soft, role=c.role, note=c.note,
    )
    if c.indicator is not None and c.assessed and not c.judgement:
        info = indicator_info(c.indicator)
        column = indicator_column(c.indicator, c.params)
        computed = row.get(f"{column}__computed")
        value = row.get(column)
        declared = declared_row.get(column)
        result.indicator, result.unit = c.indicator, info.unit
        result.value, result.threshold, result.comparator = value, c.threshold, c.comparator
        result.declared = declared
        result.value_source = "registry" if computed is not None else ("declared" if value is not None else "registry")
        if declared is not None and computed is not None:
            scale = max(abs(computed), abs(declared), 1e-12)
            result.discrepancy = abs(computed - declared) / scale > DISCREPANCY_TOLERANCE
        if status in ("fail", "warn", "unknown"):
            ctx = dict(context)
            if info.denominator:
                ctx["denominator"] = row.get(indicator_column(info.denominator))
            result.gap, result.gap_zh = gap_text(c, value, ctx)
    children = [build_result(ch, row, status_row, declared_row, context) for ch in c.children()]
    result.children = children
    if children and status in ("fail", "unknown", "warn"):
        joiner_en, joiner_zh = (" or ", "；或") if c.any is not None else ("; ", "；")
        owed = [ch for ch in children if ch.status != "pass" and ch.gap]
        result.gap = joiner_en.join(ch.gap for ch in owed) or None
        result.gap_zh = joiner_zh.join(ch.gap_zh for ch in owed if ch.gap_zh) or None
    return result


def verdicts(
    table: pl.DataFrame,
    declared: pl.Series,
    pack: Pack,
    subjects: list[dict],
    year: int,
    engine=None,
) -> list[Verdict]:
    """Verdicts for every row of an indicator table (one row per cluster, key `cluster_id`); the
    statuses computed on `engine` (analytics.engines; default DuckDB)."""
    computed = table.rename({c: f"{c}__computed" for c in table.columns if c != "cluster_id"})
    filled, declared_table = apply_declared(table, declared, pack)
    status_table = statuses(filled, pack, "cluster_id", engine)
    rows = filled.hstack(computed.drop("cluster_id")).to_dicts()
    out = []
    policy = {"id": pack.id, "version": pack.version, "title": pack.title,
              "effective_from": pack.effective_from.isoformat()}
    on = cluster_date(year).isoformat()  # designations count when valid on this date
    for row, status_row, declared_row, subject in zip(
        rows, status_table.to_dicts(), declared_table.to_dicts(), subjects, strict=True
    ):
        context = {"leading": "/".join(subject.get("leading_industries", []))}
        results = [build_result(c, row, status_row, declared_row, context) for c in pack.criteria]
        outcome, review = outcome_of([r.status for r in results if r.role == "condition"])
        out.append(Verdict(subject, policy, year, outcome, review, results, on=on))
    return out
