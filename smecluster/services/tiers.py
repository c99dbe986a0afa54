"""Enterprise tiers: every firm of the registry against every tier pack in force, with evidence.

The CLI and the web layer call these functions; the work is one compiled SQL query run by DuckDB
over Arrow tables read from the database (smecluster.analytics.tier_query).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from smecluster.analytics.engines import Engine as SqlEngine
from smecluster.analytics.enterprise_facts import (
    build_facts,
    fact_views,
    facts_from_snapshot,
    facts_sql,
    read_registry,
)
from smecluster.analytics.prepared import run_small
from smecluster.analytics.stored_snapshot import StoredSnapshot, current_snapshot
from smecluster.analytics.tier_query import OUTCOME_LABELS, STATUS_LABELS, QueryPlan, TierPlan
from smecluster.policy.tiers import tier_label
from smecluster.policy.validity import end_sql, start_sql
from smecluster.registry.parquet_layout import ParquetRegistry
from smecluster.services.tier_plans import (  # noqa: F401  (re-exported: callers import them from here)
    KEYS,
    default_on,
    facts_date,
    facts_name,
    held_dates_name,
    latest_year,
    pack_reason,
    plan_for,
    tier_labels,
    tier_names_on,
    tiers_name,
    values_name,
)

LISTS = {
    "eligible_not_designated": "eligible but not designated (candidates to cultivate)",
    "designated_not_eligible": "designated but no longer eligible (due for re-review)",
    "one_short_of_next": "one criterion short of the next tier",
}
Progress = Callable[[str], None]


@dataclass
class TierEvaluation:
    """The result of one batch evaluation: codes per firm, and how to read them."""

    year: int
    on: date
    plan: QueryPlan
    table: pa.Table  # one row per firm: keys, per-tier evidence (status codes, points), summary
    evaluation: str = "new"  # kind of evaluation: new application or re-review

    @property
    def tiers(self) -> list[TierPlan]:
        """The tier plans evaluated, lowest tier first."""
        return self.plan.tiers

    def frame(self) -> pl.DataFrame:
        """The result as Polars, codes as they are."""
        return pl.from_arrow(self.table)


def packs_applied(evaluation: TierEvaluation) -> list[dict]:
    """Per tier: the tier's name under its pack, the pack applied and why (shown with every result)."""
    return [{"tier": p.tier, "label_zh": tier_label(p.pack, "zh"), "label_en": tier_label(p.pack, "en"),
             "pack": p.pack.id, "version": p.pack.version, "evaluation": evaluation.evaluation,
             "reason_en": pack_reason(p.pack, "en"), "reason_zh": pack_reason(p.pack, "zh")}
            for p in evaluation.tiers]


def evaluate_facts(facts: pa.Table | pl.DataFrame, year: int, on: date, tier: str | None = None,
                   keys: tuple[str, ...] = KEYS, evaluation: str = "new") -> TierEvaluation:
    """Evaluate an in-memory fact table against the packs applied on `on` to an evaluation of one kind
    (new application or re-review; the path benchmarks time)."""
    plan = _plan(on, tier, keys, evaluation)
    table = run_small(plan.sql, {"facts": facts.to_arrow() if isinstance(facts, pl.DataFrame) else facts})
    return TierEvaluation(year=year, on=on, plan=plan, table=table, evaluation=evaluation)


_plan = plan_for  # the name callers used before the light module existed


def evaluate_enterprises(
    engine: Engine | None, year: int | None = None, on: date | None = None, county: str | None = None,
    tier: str | None = None, progress: Progress | None = None, evaluation: str = "new",
    sql: SqlEngine | None = None, source: ParquetRegistry | None = None,
) -> TierEvaluation:
    """Every enterprise (of a county) against every tier (or one) as applied on `on` to an evaluation of
    one kind (new application or re-review), data year `year`.

    On a province-sized registry the province's result is kept beside the snapshot (computed once per
    registry version and plan); a county's is its rows of that kept result when there is one.
    `source`: a Parquet registry folder read instead of the database; `sql`: the engine the fact and
    tier SQL run on (analytics.engines; given, the result is computed afresh on it, nothing kept).
    """
    step = progress or (lambda _msg: None)
    if source is not None or sql is not None:
        return engine_tiers(engine, sql, source, year, on, county, tier, evaluation, step)
    year = year or latest_year(engine)
    if year is None:
        raise ValueError("the registry has no yearly enterprise data: import or generate some first")
    on = on or default_on(year)
    step("reading the registry")
    snapshot = current_snapshot(engine, refresh=county is None)
    if snapshot is not None:
        plan = plan_for(on, tier, KEYS, evaluation)
        if county is None:
            step("evaluating tiers")
            table = province_tiers(snapshot, plan, year, on, keep_values=tier is None)
            return TierEvaluation(year=year, on=on, plan=plan, table=table, evaluation=evaluation)
        # A firm's tier row depends on its own fact row alone: the county's rows of the kept result
        kept = snapshot.kept(tiers_name(plan, year, kept_date(snapshot, on)), filters=[("county_code", "=", county)])
        if kept is not None:
            return TierEvaluation(year=year, on=on, plan=plan, table=kept, evaluation=evaluation)
    facts = enterprise_facts(engine, year, on, county, snapshot=snapshot)
    step("evaluating tiers")
    return evaluate_facts(facts, year, on, tier, evaluation=evaluation)


def engine_tiers(
    engine: Engine | None, sql: SqlEngine | None, source: ParquetRegistry | None, year: int | None,
    on: date | None, county: str | None, tier: str | None, evaluation: str, step: Progress,
) -> TierEvaluation:
    """`evaluate_enterprises` on an SQL engine: the registry's tables (from a Parquet registry, or read
    from the database) registered on it as views, the fact SQL and the tier SQL run there."""
    from smecluster.analytics.engines import DuckDBEngine

    own = sql is None
    sql = sql if sql is not None else DuckDBEngine()
    parts: list[pa.Table] = []
    try:
        year, on, plan, key = _run_batches(
            sql, engine, source, year, on, county, tier, evaluation, step,
            lambda run, key, _part: parts.append(_by_uscc(sql.arrow(run.sql), key)))
        table = _by_uscc(pa.concat_tables(parts), key) if len(parts) > 1 else parts[0]
        if key != "uscc":
            table = table.drop_columns([key])
    finally:
        if own:
            sql.close()
    return TierEvaluation(year=year, on=on, plan=plan, table=table, evaluation=evaluation)


def _run_batches(
    sql: SqlEngine, engine: Engine | None, source: ParquetRegistry | None, year: int | None, on: date | None,
    county: str | None, tier: str | None, evaluation: str, step: Progress,
    each: Callable[[QueryPlan, str, int], None],
) -> tuple[int, date, QueryPlan, str]:
    """Register the registry on `sql`, then for each batch of firms make the fact view and call
    `each(plan, key, batch number)`, the plan's SQL giving that batch's tier rows (with the firm key
    `key` as a column when it is not uscc). Returns the year, the date, the plan (keys KEYS) and the key."""
    step("reading the registry")
    year = register_tables(sql, engine, source, year, county)
    on = on or default_on(year)
    plan = plan_for(on, tier, KEYS, evaluation)
    # A Parquet registry of layout 2 joins a firm's rows by its integer key `firm` (ordered as the
    # credit codes): the plan carries it as a key, results are sorted by it, and it is dropped.
    key = source.key if source is not None else "uscc"
    run = plan if key == "uscc" else plan_for(on, tier, (*KEYS, key), evaluation)
    step("evaluating tiers")
    # A firm's row depends on its own rows alone: on one machine (DuckDB) a Parquet registry is
    # evaluated a few provinces at a time (the same SQL over their partitions, BATCH_FIRMS firms or
    # the largest province), so memory is bounded by the batch, not the nation; a Spark cluster
    # takes the whole registry in one query.
    batches = province_batches(source) if source is not None and county is None and sql.by_province else []
    for i, batch in enumerate(batches or [None]):
        if batch is not None and len(batches) > 1:
            sql.register_registry(source, batch)
        fact_views(sql, year, county, key)
        sql.view("facts", facts_sql(year, on, ordered=False, key=key))
        each(run, key, i)
    if len(batches) > 1:  # the engine's views over the whole registry again, for what the caller runs next
        sql.register_registry(source)
    return year, on, plan, key


RESULT_FORMAT = "smecluster-tiers"  # evaluation.json of a result folder (write_enterprise_tiers)


def write_enterprise_tiers(
    source: ParquetRegistry, out: Path | str, sql: SqlEngine | None = None, year: int | None = None,
    on: date | None = None, county: str | None = None, tier: str | None = None, evaluation: str = "new",
    progress: Progress | None = None,
) -> dict:
    """Every firm of a Parquet registry against every tier (or one), written by the engine under `out`
    (a new or empty folder) instead of collected in this process: the rows `evaluate_enterprises` gives
    (codes as they are), Hive-partitioned by province (`province=PP/`, of the firm's county), sorted by
    credit code within each file, and `evaluation.json` (year, date, packs applied, the codes' meanings,
    firms written). A national Spark run thus never holds the result in one process; DuckDB writes
    batch by batch (memory bounded by the batch). Returns what evaluation.json holds."""
    from smecluster.analytics.engines import DuckDBEngine
    from smecluster.analytics.tier_query import evidence_columns

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out}: exists and is not an empty folder (the result is written into a new one)")
    step = progress or (lambda _msg: None)

    def write(run: QueryPlan, key: str, part: int) -> None:
        names = [*([key] if key != "uscc" else []), *KEYS, *evidence_columns(run.tiers)]
        select = ", ".join(f'"{c}"' for c in names)
        sql.write_parquet(f"SELECT {select}, LEFT(county_code, 2) AS province FROM ({run.sql}) AS r",
                          str(out), "province", key, drop=[key] if key != "uscc" else [], part=part)

    own = sql is None
    sql = sql if sql is not None else DuckDBEngine()
    out.mkdir(parents=True, exist_ok=True)
    try:
        year, on, plan, _ = _run_batches(sql, None, source, year, on, county, tier, evaluation, step, write)
    finally:
        if own:
            sql.close()
    import pyarrow.parquet as pq

    firms = sum(pq.read_metadata(f).num_rows for f in out.rglob("*.parquet"))
    ev = TierEvaluation(year=year, on=on, plan=plan, table=pa.table({}), evaluation=evaluation)
    info = {
        "format": RESULT_FORMAT, "year": year, "on": on.isoformat(), "evaluation": evaluation, "firms": firms,
        "registry": str(source.root), "registry_version": source.manifest.get("registry_version"),
        "partition_by": ["province"], "columns": [*KEYS, *evidence_columns(plan.tiers)],
        "tiers": [p.tier for p in plan.tiers], "packs": packs_applied(ev),
        "status_codes": dict(enumerate(STATUS_LABELS)), "outcome_codes": dict(enumerate(OUTCOME_LABELS)),
    }
    (out / "evaluation.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return info


# Firms evaluated at once when an engine takes a Parquet registry province by province (DuckDB: about
# 1 GB of memory a million firms while the facts are joined; a small province shares a batch).
BATCH_FIRMS = 3_000_000


def province_batches(source: ParquetRegistry, firms: int | None = None) -> list[list[str]]:
    """The registry's provinces in code order, cut into consecutive batches of about `firms` firms
    (default BATCH_FIRMS; a larger province is a batch of its own)."""
    firms = firms or BATCH_FIRMS
    out: list[list[str]] = []
    size = 0
    for code, n in source.provinces().items():
        if not out or size + n > firms:
            out.append([])
            size = 0
        out[-1].append(code)
        size += n
    return out


def register_tables(sql: SqlEngine, engine: Engine | None, source: ParquetRegistry | None, year: int | None,
                    county: str | None = None) -> int:
    """The registry tables a fact table reads, registered on `sql` under their names (from the Parquet
    registry `source`, else read from the database: years year-2..year, the county's firms); returns
    the data year (default: the newest)."""
    from smecluster.services.clusters import registry_latest_year

    if source is not None:
        year = year or registry_latest_year(source)
        if year is None:
            raise ValueError(f"{source.root}: the registry has no yearly enterprise data")
        sql.register_registry(source)
        return year
    year = year or latest_year(engine)
    if year is None:
        raise ValueError("the registry has no yearly enterprise data: import or generate some first")
    for name, frame in read_registry(engine, year, county).items():
        sql.register(name, frame)
    return year


def province_tiers(snapshot: StoredSnapshot, plan: QueryPlan, year: int, on: date,
                   keep_values: bool = False) -> pa.Table:
    """Every firm's tier row under `plan`, sorted by credit code, kept beside the snapshot (computed
    from the kept province facts the first time it is asked for; `keep_values`: the indicator values
    a diagnosis shows are kept from the same facts, read once)."""
    name = tiers_name(plan, year, kept_date(snapshot, on))
    if snapshot.has(name):  # Polars reads the many small row groups three times faster than PyArrow
        return pl.read_parquet(snapshot.path / f"{name}.parquet").to_arrow()
    facts = province_facts(snapshot, year, on)
    if keep_values:
        province_values(snapshot, plan, year, on, facts)
    # small row groups: a diagnosis reads the one group its credit code falls in
    return snapshot.cached(name, lambda: _by_uscc(run_small(plan.sql, {"facts": facts})),
                           row_group_size=LOOKUP_ROWS, compression="lz4", lookup_key="uscc")


def province_values(snapshot: StoredSnapshot, plan: QueryPlan, year: int, on: date,
                    facts: pa.Table | None = None) -> pa.Table:
    """Every firm's indicator values (what a diagnosis shows beside each criterion), sorted by credit
    code, kept beside the snapshot."""
    def compute() -> pa.Table:
        table = facts if facts is not None else province_facts(snapshot, year, on)
        return _by_uscc(run_small(plan.indicator_sql, {"facts": table}))

    return snapshot.cached(values_name(plan, year, kept_date(snapshot, on)), compute, row_group_size=LOOKUP_ROWS,
                           compression="lz4", lookup_key="uscc")


def keep_for_diagnosis(snapshot: StoredSnapshot, year: int, on: date, evaluation: str = "new") -> None:
    """Compute (if not kept yet) what a keyed diagnosis reads: the province's tier rows and indicator values."""
    plan = plan_for(on, None, KEYS, evaluation)
    key = kept_date(snapshot, on)
    if not snapshot.has(tiers_name(plan, year, key)):
        province_tiers(snapshot, plan, year, on, keep_values=True)
    elif not snapshot.has(values_name(plan, year, key)):
        province_values(snapshot, plan, year, on)


# Rows per row group of the kept tier and value tables: a keyed read decodes one group. (LZ4: read
# back three times faster than zstd, a province evaluation reads the whole table.)
LOOKUP_ROWS = 8_192


def _by_uscc(table: pa.Table, key: str = "uscc") -> pa.Table:
    """The rows in credit-code order: sorted by `key` (uscc, or a firm key ordered as the credit codes,
    cheaper to sort than 18 characters of text) unless already in that order."""
    codes = table.column(key)
    if len(codes) > 1 and not pc.all(pc.less_equal(codes[:-1], codes[1:])).as_py():
        table = table.sort_by(key)
    return table


def province_facts(snapshot: StoredSnapshot, year: int, on: date) -> pa.Table:
    """The province's fact table, kept beside the snapshot it comes from."""
    return snapshot.cached(facts_name(year, kept_date(snapshot, on)), lambda: facts_from_snapshot(snapshot, year, on))


def kept_date(snapshot: StoredSnapshot, on: date) -> date:
    """The date naming the province results kept for `on` (`tier_plans.facts_date`), the snapshot's
    designation dates computed and kept first when they are not yet."""
    found = facts_date(snapshot, on)
    if found is not None:
        return found
    con = snapshot.connect()
    dates = [d.isoformat() for (d,) in con.sql(f"""
        SELECT DISTINCT d FROM (
          SELECT {start_sql()} AS d FROM designation
          UNION ALL SELECT CAST({end_sql()} + INTERVAL 1 DAY AS DATE) FROM designation)
        WHERE d IS NOT NULL ORDER BY d""").fetchall()]
    con.close()
    path = snapshot.path / f"{held_dates_name()}.json"
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    part.write_text(json.dumps(dates), encoding="utf-8")
    os.replace(part, path)  # readers see the whole list or none
    return facts_date(snapshot, on) or date.min


def enterprise_facts(engine: Engine, year: int, on: date, county: str | None = None,
                     snapshot: StoredSnapshot | None | bool = True) -> pa.Table:
    """The fact table of every firm (or one county's), from the columnar snapshot when the registry is
    province-sized, else from the database with the county and years in the SQL.

    A county question takes the snapshot only if it is already current: rebuilding it after an edit
    costs the province, reading the county from the database costs the county. (`snapshot`: the one
    the caller already checked, or None for none; True: check here.)
    """
    if snapshot is True:
        snapshot = current_snapshot(engine, refresh=county is None)
    if snapshot is not None:
        if county is None:  # the province's facts, kept beside the snapshot they come from
            return province_facts(snapshot, year, on)
        # A firm's fact row depends on its own rows alone: the county's rows of the province's kept
        # facts (same order, uscc) are the county's facts, read without aggregating the registry.
        kept = snapshot.kept(facts_name(year, kept_date(snapshot, on)), filters=[("county_code", "=", county)])
        return kept if kept is not None else facts_from_snapshot(snapshot, year, on, county)
    frames = read_registry(engine, year, county)
    return build_facts(frames["enterprise"], frames["enterprise_year"], frames["enterprise_profile"],
                       frames["designation"], year, on, frames["industry"])


def labelled(evaluation: TierEvaluation, rows: pl.DataFrame | None = None, enum: bool = False) -> pl.DataFrame:
    """The result with status codes as words and tier ranks as tier kinds (for export and display).

    `enum`: the words as Polars enums (codes under a dictionary of the few words; Parquet stores them
    dictionary-encoded, read back as text): a province's labels as plain text took 6.4 GB.
    """
    frame = evaluation.frame() if rows is None else rows
    kinds = [p.tier for p in evaluation.tiers]

    def words(values: list[str]) -> pl.DataType:
        return pl.Enum(values) if enum else pl.Utf8

    def const(value: str | None, name: str) -> pl.Expr:
        dtype = words([value]) if value is not None else pl.Utf8
        return pl.lit(value, dtype=pl.Utf8).cast(dtype).alias(name)

    status_cols, outcome_cols = [], []
    for p in evaluation.tiers:
        status_cols += [c for c in [*p.status.values(), p.col("required"), p.col("direct"), p.col("path"),
                                    p.col("score_status")] if c in frame.columns]
        outcome_cols.append(p.col("outcome"))
    rank_cols = [c for c in ("highest_rank", "designated_rank", "next_rank") if c in frame.columns]
    flags = [const(", ".join(p.unverified) or None, p.col("unverified")) for p in evaluation.tiers]
    applied = [x for p in evaluation.tiers for x in (
        const(p.pack.id, p.col("pack")), const(pack_reason(p.pack), p.col("pack_reason")))]
    return frame.with_columns(
        *flags, *applied,
        *[pl.col(c).cast(pl.Int64).replace_strict(list(range(5)), list(STATUS_LABELS),
                                                  return_dtype=words(list(STATUS_LABELS)))
          for c in status_cols],
        *[pl.col(c).cast(pl.Int64).replace_strict(list(range(4)), list(OUTCOME_LABELS),
                                                  return_dtype=words(list(OUTCOME_LABELS)))
          for c in outcome_cols],
        *[pl.col(c).cast(pl.Int64).replace_strict(list(range(-1, len(kinds))), [None, *kinds],
                                                  default=None, return_dtype=words(kinds))
          .alias(c.replace("_rank", "_tier")) for c in rank_cols],
    ).drop(rank_cols)


GROUP_WORDS = {"innovation": ("创新能力", "innovation"), "growth": ("成长性", "growth"),
               "specialisation": ("专业化", "specialisation")}


def _title_in(title: str, lang: str) -> str:
    """A criterion title "中文 / English" in one language (a title without the slash is both)."""
    zh, _, en = title.partition(" / ")
    return (zh if lang == "zh" else en or zh).strip()


def reasons(evaluation: TierEvaluation, lang: str = "zh", rows: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per firm and tier, why it does not qualify, in words of `lang` (`<tier>__reason`), the failing
    criteria's codes (`<tier>__failing`) and each score group's minimum beside its score
    (`<tier>__group_<g>_min`): column expressions over the whole result, no loop over firms.

    The reason is empty (null) when the firm qualifies. It names each required criterion failing or
    without data, and when the score path fails (no direct route met) the score against the pass mark
    and every group below its minimum.
    """
    from smecluster.analytics.tier_sql import FAIL, PASS, UNKNOWN

    f = evaluation.frame() if rows is None else rows
    zh = lang == "zh"
    sep = "；" if zh else "; "
    exprs: list[pl.Expr] = []
    for p in evaluation.tiers:
        words, codes = [], []
        for c in p.pack.criteria:
            if c.role not in ("condition", "baseline") or c.id not in p.status:
                continue
            col, title = pl.col(p.status[c.id]), _title_in(c.title, lang)
            failed = f"{c.id} {title}：未满足" if zh else f"{c.id} {title}: not met"
            missing = f"{c.id} {title}：缺少数据" if zh else f"{c.id} {title}: data missing"
            words.append(pl.when(col == FAIL).then(pl.lit(failed)).when(col == UNKNOWN).then(pl.lit(missing)))
            codes.append(pl.when(col.is_in([FAIL, UNKNOWN])).then(pl.lit(c.id)))
        rule = p.pack.pass_rule
        if rule is not None and rule.score_at_least is not None and p.col("score") in f.columns:
            path_fails = (pl.col(p.col("path")) != PASS) & (pl.col(p.col("direct")) != PASS)
            mark = f"{rule.score_at_least:g}"
            words.append(pl.when(path_fails & (pl.col(p.col("score")) < rule.score_at_least)).then(
                pl.format("得分 {} 分，未达 {} 分" if zh else "score {} below the pass mark {}",
                          pl.col(p.col("score")), pl.lit(mark))))
            codes.append(pl.when(path_fails).then(pl.lit("score")))
            for g, minimum in rule.group_minimums.items():
                name = GROUP_WORDS.get(g, (g, g))[0 if zh else 1]
                score = pl.col(p.col("group_" + g))
                words.append(pl.when(path_fails & (score < minimum)).then(
                    pl.format(f"{name}得分 {{}} 分，低于最低要求 {minimum:g} 分" if zh
                              else f"{name} scores {{}}, below the minimum {minimum:g}", score)))
                exprs.append(pl.lit(float(minimum)).alias(p.col(f"group_{g}_min")))
        qualifies = pl.col(p.col("outcome")) >= 2  # qualifies, or pending a reviewer's judgement
        join = lambda parts, s: (pl.concat_list(parts).list.drop_nulls().list.join(s)  # noqa: E731
                                 if parts else pl.lit(None, dtype=pl.Utf8))
        exprs.append(pl.when(qualifies).then(None).otherwise(join(words, sep)).alias(p.col("reason")))
        exprs.append(pl.when(qualifies).then(None).otherwise(join(codes, ", ")).alias(p.col("failing")))
    return f.select(exprs)


def summary(evaluation: TierEvaluation) -> pl.DataFrame:
    """Firms per tier: qualifying, designated, and the three lists."""
    f = evaluation.frame()
    rows = []
    for i, p in enumerate(evaluation.tiers):
        out, held = pl.col(p.col("outcome")), pl.col(f"designated_{p.tier}")
        rows.append(f.select(
            pl.lit(p.tier).alias("tier"), pl.lit(tier_label(p.pack, "zh")).alias("label"),
            pl.lit(p.pack.id).alias("pack"), pl.lit(pack_reason(p.pack)).alias("pack_reason"),
            (out >= 2).sum().alias("qualifies"), (out == 1).sum().alias("unknown"),
            held.sum().alias("designated"),
            ((out >= 2) & ~held).sum().alias("eligible_not_designated"),
            (held & (out == 0)).sum().alias("designated_not_eligible"),
            ((pl.col("next_rank") == i) & pl.col("one_short_of_next")).sum().alias("one_short_of_this"),
            pl.lit(len(p.unverified)).alias("unverified_criteria"),
        ))
    return pl.concat(rows)


def tier_lists(evaluation: TierEvaluation) -> dict[str, pl.DataFrame]:
    """The three lists (one row per firm and tier concerned), each labelled for reading."""
    f = evaluation.frame()
    out: dict[str, list[pl.DataFrame]] = {k: [] for k in LISTS}
    base = [c for c in KEYS if c in f.columns]
    for i, p in enumerate(evaluation.tiers):
        o, held = pl.col(p.col("outcome")), pl.col(f"designated_{p.tier}")
        score = pl.col(p.col("score")) if p.col("score") in f.columns else pl.lit(None, dtype=pl.Float32)
        pick = [*base, pl.lit(p.tier).alias("tier"), pl.lit(p.pack.id).alias("pack"), score.alias("score"),
                pl.lit(pack_reason(p.pack)).alias("pack_reason")]
        out["eligible_not_designated"].append(f.filter((o >= 2) & ~held).select(pick))
        out["designated_not_eligible"].append(f.filter(held & (o == 0)).select(pick))
        out["one_short_of_next"].append(
            f.filter((pl.col("next_rank") == i) & pl.col("one_short_of_next")).select(pick)
        )
    return {k: pl.concat(v, how="vertical_relaxed") for k, v in out.items()}


def unverified_notes(evaluation: TierEvaluation) -> dict[str, list[str]]:
    """Per tier, the UNVERIFIED criteria its verdicts use (shown with every verdict)."""
    return {p.tier: list(p.unverified) for p in evaluation.tiers}


def funnel_chart(evaluation: TierEvaluation) -> dict:
    """ECharts option of the tier funnel: designated and qualifying firms per tier."""
    from smecluster.reports.funnel import funnel_option

    s = summary(evaluation)
    return funnel_option(dict(zip(s["tier"], s["designated"], strict=True)),
                         dict(zip(s["tier"], s["qualifies"], strict=True)),
                         labels=dict(zip(s["tier"], s["label"], strict=True)))
