"""Enterprise tiers: every firm of the registry against every tier pack in force, with evidence.

The CLI and the web layer call these functions; the work is one compiled SQL query run by DuckDB
over Arrow tables read from the database (smecluster.analytics.tier_query).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl
import pyarrow as pa
from sqlalchemy import Engine, func, select

from smecluster.analytics.enterprise_facts import build_facts, facts_from_snapshot, read_registry
from smecluster.analytics.prepared import run_small
from smecluster.analytics.stored_snapshot import current_snapshot
from smecluster.analytics.tier_query import OUTCOME_LABELS, STATUS_LABELS, QueryPlan, TierPlan, compile_tiers
from smecluster.policy.pack import Pack
from smecluster.policy.tiers import tier_label, tier_packs, tiers
from smecluster.registry.models import EnterpriseYear

KEYS = ("uscc", "name", "county_code", "industry_code")
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


def default_on(year: int, today: date | None = None) -> date:
    """The evaluation date for data year Y: today, but no later than the end of Y+1."""
    today = today or date.today()
    return min(today, date(year + 1, 12, 31))


def latest_year(engine: Engine) -> int | None:
    """The newest data year in the registry."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(EnterpriseYear.year))).scalar()


def pack_reason(pack: Pack, lang: str = "en") -> str:
    """Why a selected pack was applied (date rule and kind of evaluation), for tables and pages."""
    if pack.selection is None:
        return ""
    return pack.selection.reason_zh() if lang == "zh" else pack.selection.reason_en()


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


_PLANS: dict[tuple, tuple[list, QueryPlan]] = {}


def _plan(on: date, tier: str | None, keys: tuple[str, ...], evaluation: str = "new") -> QueryPlan:
    """The compiled plan of the packs in force, reused while the same pack objects are (a diagnosis
    costs less than compiling every pack; packs reloaded from disk are new objects, compiled anew)."""
    packs = tier_packs(on, tier, evaluation)
    key = (tuple(id(p) for p in packs), keys)
    found = _PLANS.get(key)
    if found is None:
        if len(_PLANS) >= 64:
            _PLANS.clear()
        found = _PLANS[key] = (packs, compile_tiers(packs, keys=keys))  # the packs kept: their ids stay theirs
    return found[1]


def evaluate_enterprises(
    engine: Engine, year: int | None = None, on: date | None = None, county: str | None = None,
    tier: str | None = None, progress: Progress | None = None, evaluation: str = "new",
) -> TierEvaluation:
    """Every enterprise (of a county) against every tier (or one) as applied on `on` to an evaluation of
    one kind (new application or re-review), data year `year`."""
    step = progress or (lambda _msg: None)
    year = year or latest_year(engine)
    if year is None:
        raise ValueError("the registry has no yearly enterprise data: import or generate some first")
    on = on or default_on(year)
    step("reading the registry")
    facts = enterprise_facts(engine, year, on, county)
    step("evaluating tiers")
    return evaluate_facts(facts, year, on, tier, evaluation=evaluation)


def enterprise_facts(engine: Engine, year: int, on: date, county: str | None = None) -> pa.Table:
    """The fact table of every firm (or one county's), from the columnar snapshot when the registry is
    province-sized, else from the database with the county and years in the SQL.

    A county question takes the snapshot only if it is already current: rebuilding it after an edit
    costs the province, reading the county from the database costs the county.
    """
    snapshot = current_snapshot(engine, refresh=county is None)
    if snapshot is not None:
        name = f"facts-{year}-{on.isoformat()}"
        if county is None:  # the province's facts, kept beside the snapshot they come from
            return snapshot.cached(name, lambda: facts_from_snapshot(snapshot, year, on))
        # A firm's fact row depends on its own rows alone: the county's rows of the province's kept
        # facts (same order, uscc) are the county's facts, read without aggregating the registry.
        kept = snapshot.kept(name, filters=[("county_code", "=", county)])
        return kept if kept is not None else facts_from_snapshot(snapshot, year, on, county)
    frames = read_registry(engine, year, county)
    return build_facts(frames["enterprise"], frames["enterprise_year"], frames["enterprise_profile"],
                       frames["designation"], year, on, frames["industry"])


def labelled(evaluation: TierEvaluation, rows: pl.DataFrame | None = None) -> pl.DataFrame:
    """The result with status codes as words and tier ranks as tier kinds (for export and display)."""
    frame = evaluation.frame() if rows is None else rows
    kinds = [p.tier for p in evaluation.tiers]
    status_cols, outcome_cols = [], []
    for p in evaluation.tiers:
        status_cols += [c for c in [*p.status.values(), p.col("required"), p.col("direct"), p.col("path"),
                                    p.col("score_status")] if c in frame.columns]
        outcome_cols.append(p.col("outcome"))
    rank_cols = [c for c in ("highest_rank", "designated_rank", "next_rank") if c in frame.columns]
    flags = [pl.lit(", ".join(p.unverified) or None, dtype=pl.Utf8).alias(p.col("unverified"))
             for p in evaluation.tiers]
    applied = [x for p in evaluation.tiers for x in (
        pl.lit(p.pack.id, dtype=pl.Utf8).alias(p.col("pack")),
        pl.lit(pack_reason(p.pack), dtype=pl.Utf8).alias(p.col("pack_reason")))]
    return frame.with_columns(
        *flags, *applied,
        *[pl.col(c).cast(pl.Int64).replace_strict(list(range(5)), list(STATUS_LABELS), return_dtype=pl.Utf8)
          for c in status_cols],
        *[pl.col(c).cast(pl.Int64).replace_strict(list(range(4)), list(OUTCOME_LABELS), return_dtype=pl.Utf8)
          for c in outcome_cols],
        *[pl.col(c).cast(pl.Int64).replace_strict(list(range(-1, len(kinds))), [None, *kinds],
                                                  default=None, return_dtype=pl.Utf8)
          .alias(c.replace("_rank", "_tier")) for c in rank_cols],
    ).drop(rank_cols)


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


def tier_labels() -> dict[str, dict]:
    """Tier kind -> labels and rank, for display."""
    return {t.kind: {"zh": t.label_zh, "en": t.label_en, "rank": t.rank} for t in tiers()}


def tier_names_on(on: date, lang: str = "zh") -> dict[str, str]:
    """Tier kind -> its name under the pack applied on a date (科技和创新型中小企业 from 2026-04-01)."""
    return {p.tier or p.id: tier_label(p, lang) for p in tier_packs(on)}


def funnel_chart(evaluation: TierEvaluation) -> dict:
    """ECharts option of the tier funnel: designated and qualifying firms per tier."""
    from smecluster.reports.funnel import funnel_option

    s = summary(evaluation)
    return funnel_option(dict(zip(s["tier"], s["designated"], strict=True)),
                         dict(zip(s["tier"], s["qualifies"], strict=True)),
                         labels=dict(zip(s["tier"], s["label"], strict=True)))
