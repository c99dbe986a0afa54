"""Re-review watch: each criterion of every recognised cluster year by year, its trend, its value
projected to the re-review year, and whether it is at risk (decision 1325).

All clusters at once: the indicators of each year come from the one cluster evaluation
(`compute_cluster_indicators`, SQL over the snapshot), the statuses from the compiled criteria SQL,
the trend is a least-squares slope per (cluster, indicator) over the last `window` years (Polars
group-by), and the risk test is SQL built from the pack, composed like the statuses (an `any`
criterion is at risk only when each of its branches is).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.analytics.cluster_indicators import compute_cluster_indicators
from smecluster.analytics.snapshot import Snapshot
from smecluster.policy.compile import (
    FAIL,
    NOT_ASSESSED,
    PASS,
    UNKNOWN,
    assessed,
    compare_sql,
    compose_sql,
    const,
    indicator_column,
    quote,
    required_columns,
    rounding,
)
from smecluster.policy.evaluate import statuses
from smecluster.policy.pack import Criterion, Pack

TREND_WINDOW = 3  # years of the trend (近3年)
# Units whose values cannot leave these bounds: a projection is clipped to them.
BOUNDS = {"ratio": (0.0, 1.0), "count": (0.0, None), "km2": (0.0, None), "wan_yuan": (0.0, None)}


@dataclass
class WatchTables:
    """What the watch computed, as frames keyed by `cluster_id`.

    history: cluster_id, year, one column per indicator (the values of each year).
    history_status: cluster_id, year, one status column per criterion id.
    trend: cluster_id, column, points, slope (per year), latest (value in `year`), projected.
    projected_status: cluster_id, one status column per criterion id (criteria applied to the projection).
    risk: cluster_id, one boolean column per criterion id (top level and children), `at_risk`.
    """

    year: int
    years: list[int]
    history: pl.DataFrame
    history_status: pl.DataFrame
    trend: pl.DataFrame
    projected_status: pl.DataFrame
    risk: pl.DataFrame


def leaf_criteria(pack: Pack) -> list[Criterion]:
    """The pack's criteria a rule decides on one indicator (the rows of the watch)."""
    return [c for c in pack.all_criteria() if c.indicator is not None and assessed(c) and c.bands is None]


def indicator_history(snapshot: Snapshot, pack: Pack, years: list[int]) -> pl.DataFrame:
    """One row per (cluster, year): the pack's indicators computed as of each year."""
    needed = required_columns(pack.criteria)
    frames = [
        compute_cluster_indicators(snapshot, y, needed).with_columns(pl.lit(y, pl.Int32).alias("year"))
        for y in years
    ]
    return pl.concat(frames, how="diagonal_relaxed").sort("cluster_id", "year")


def trends(history: pl.DataFrame, year: int, window: int = TREND_WINDOW) -> pl.DataFrame:
    """Least-squares slope per year of each indicator over the years `year - window + 1 .. year`.

    A slope needs two years with a value; with fewer it is null (not enough history, never zero).
    """
    columns = [c for c in history.columns if c not in ("cluster_id", "year")]
    long = (
        history.filter(pl.col("year") > year - window)
        .unpivot(index=["cluster_id", "year"], on=columns, variable_name="column", value_name="value")
        .drop_nulls("value")
    )
    x = pl.col("year").cast(pl.Float64)
    fitted = long.group_by("cluster_id", "column").agg(
        pl.len().alias("points"),
        ((x - x.mean()) * (pl.col("value") - pl.col("value").mean())).sum().alias("sxy"),
        ((x - x.mean()) ** 2).sum().alias("sxx"),
    ).with_columns(
        pl.when((pl.col("points") >= 2) & (pl.col("sxx") > 0)).then(pl.col("sxy") / pl.col("sxx")).alias("slope")
    )
    latest = history.filter(pl.col("year") == year).unpivot(
        index="cluster_id", on=columns, variable_name="column", value_name="latest"
    )
    return latest.join(fitted.select("cluster_id", "column", "points", "slope"), on=["cluster_id", "column"],
                       how="left").with_columns(pl.col("points").fill_null(0))


def project(trend: pl.DataFrame, due: pl.DataFrame, year: int) -> pl.DataFrame:
    """`trend` with `projected`: the latest value moved along the slope to each cluster's re-review year.

    `due` has cluster_id and re_review_year. Values are clipped to their unit's bounds (a share stays
    in 0..1); no slope (too little history) gives no projection.
    """
    out = trend.join(due.select("cluster_id", "re_review_year"), on="cluster_id", how="left").with_columns(
        (pl.col("latest") + pl.col("slope") * (pl.col("re_review_year") - year)).alias("projected")
    )
    units = {c: indicator_info(c.split("__")[0]).unit for c in out["column"].unique().to_list()}
    low = pl.col("column").replace_strict({c: BOUNDS.get(u, (None, None))[0] for c, u in units.items()},
                                          return_dtype=pl.Float64)
    high = pl.col("column").replace_strict({c: BOUNDS.get(u, (None, None))[1] for c, u in units.items()},
                                           return_dtype=pl.Float64)
    clipped = pl.when(low.is_not_null() & (pl.col("projected") < low)).then(low).otherwise(pl.col("projected"))
    clipped = pl.when(high.is_not_null() & (clipped > high)).then(high).otherwise(clipped)
    return out.with_columns(clipped.alias("projected"))


def near_sql(col: str, c: Criterion, margin: float) -> str:
    """SQL: the value passes but lies within `margin` (a share of the threshold) of it.

    A threshold of zero has no margin (within 10% of 0 is only 0 itself, the pass it asks for).
    """
    t = c.threshold
    if isinstance(t, bool) or not isinstance(t, int | float) or t == 0 or margin <= 0:
        return "FALSE"
    band = abs(float(t)) * margin
    passes = compare_sql(col, c.comparator, t, rounding(c))
    if c.comparator in (">=", ">"):
        return f"({col} IS NOT NULL AND {passes} AND {col} < {float(t) + band!r})"
    if c.comparator in ("<=", "<"):
        return f"({col} IS NOT NULL AND {passes} AND {col} > {float(t) - band!r})"
    return "FALSE"


def risk_code_sql(c: Criterion, margin: float) -> str:
    """Risk of a criterion as a status code: FAIL when at risk, UNKNOWN without any value, PASS otherwise.

    A leaf is at risk when its latest value fails, its projection fails, or either sits within the
    margin of the threshold. Compositions combine their children as the statuses do.
    """
    if not assessed(c) or c.bands is not None:
        return const(NOT_ASSESSED)
    if c.indicator is None:
        return compose_sql(c, [risk_code_sql(k, margin) for k in c.children() if assessed(k)])
    col = indicator_column(c.indicator, c.params)
    cur, proj = quote(f"cur__{col}"), quote(f"proj__{col}")
    decimals = rounding(c)
    fails = " OR ".join(f"({x} IS NOT NULL AND NOT ({compare_sql(x, c.comparator, c.threshold, decimals)}))"
                        for x in (cur, proj))
    near = f"{near_sql(cur, c, margin)} OR {near_sql(proj, c, margin)}"
    return (f"CASE WHEN {fails} OR {near} THEN {const(FAIL)} "
            f"WHEN {cur} IS NULL AND {proj} IS NULL THEN {const(UNKNOWN)} ELSE {const(PASS)} END")


def risk_table(projection: pl.DataFrame, pack: Pack, margin: float) -> pl.DataFrame:
    """cluster_id, one boolean per criterion (at risk), and `at_risk` (any condition at risk)."""
    wide_cur = projection.pivot(on="column", index="cluster_id", values="latest")
    wide_proj = projection.pivot(on="column", index="cluster_id", values="projected")
    table = wide_cur.rename({c: f"cur__{c}" for c in wide_cur.columns if c != "cluster_id"}).join(
        wide_proj.rename({c: f"proj__{c}" for c in wide_proj.columns if c != "cluster_id"}), on="cluster_id"
    )
    table = table.with_columns([pl.col(c).cast(pl.Float64) for c in table.columns if c != "cluster_id"])
    criteria = pack.all_criteria()
    con = duckdb.connect()
    con.register("watch", table.to_arrow())
    selects = ["cluster_id"] + [f"({risk_code_sql(c, margin)}) = {FAIL} AS {quote(c.id)}" for c in criteria]
    out = con.sql(f"SELECT {', '.join(selects)} FROM watch").pl()
    conditions = [c.id for c in pack.criteria if c.role == "condition" and assessed(c)]
    return out.with_columns(pl.any_horizontal([pl.col(c) for c in conditions]).fill_null(False).alias("at_risk"))


def watch_tables(snapshot: Snapshot, pack: Pack, year: int, due: pl.DataFrame, margin: float,
                 history_years: int = TREND_WINDOW + 1) -> WatchTables:
    """The watch of the snapshot's clusters as of data year `year`.

    `due`: cluster_id, re_review_year. `history_years` years are evaluated (the trend uses the last
    TREND_WINDOW of them; earlier ones are shown as history).
    """
    years = list(range(year - history_years + 1, year + 1))
    history = indicator_history(snapshot, pack, years)
    keyed = history.with_columns((pl.col("cluster_id") * 10_000 + pl.col("year")).alias("_row"))
    history_status = statuses(keyed.drop("cluster_id", "year"), pack, "_row").with_columns(
        (pl.col("_row") // 10_000).alias("cluster_id"), (pl.col("_row") % 10_000).cast(pl.Int32).alias("year")
    ).drop("_row")
    projection = project(trends(history, year), due, year)
    projected = projection.pivot(on="column", index="cluster_id", values="projected")
    projected = projected.with_columns([pl.col(c).cast(pl.Float64) for c in projected.columns if c != "cluster_id"])
    projected_status = statuses(projected, pack, "cluster_id")
    return WatchTables(
        year=year, years=years, history=history, history_status=history_status, trend=projection,
        projected_status=projected_status, risk=risk_table(projection, pack, margin),
    )
