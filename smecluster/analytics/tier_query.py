"""Tier packs compiled to one layered SQL query over the enterprise fact table.

Every firm against every tier in one pass of column expressions (no loop over firms): indicators;
leaf statuses and band points; compositions by height; then per tier group scores, routes, the
score test, path, outcome and the one-short flag; then the firm's highest and next tier and the
list flags. Each value is computed once in its layer and read by name above it. The SQL is
portable, so the same text runs in DuckDB here and in Spark SQL over the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.analytics.tier_sql import (  # noqa: F401  (labels re-exported for callers)
    FAIL,
    NOT_ASSESSED,
    OUTCOME_LABELS,
    PASS,
    STATUS_LABELS,
    UNKNOWN,
    WARN,
    assessed,
    band_points_sql,
    compose_sql,
    const,
    greatest,
    height,
    leaf_sql,
    least,
    literal,
    points_literal,
    quote,
    sum_sql,
    whole_points,
)
from smecluster.policy.compile import indicator_column
from smecluster.policy.pack import Pack


@dataclass
class TierPlan:
    """Column names of one tier's evidence in the result."""

    tier: str
    pack: Pack
    status: dict[str, str] = field(default_factory=dict)  # criterion id -> status column
    points: dict[str, str] = field(default_factory=dict)  # scored criterion id -> points column
    groups: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)  # criteria UNVERIFIED that the verdict uses
    review: list[str] = field(default_factory=list)  # criteria needing a reviewer's judgement

    def col(self, suffix: str) -> str:
        """A tier-level column (outcome, score, ...)."""
        return f"{self.tier}__{suffix}"


@dataclass
class QueryPlan:
    """The compiled query and where each piece of evidence lands."""

    sql: str
    tiers: list[TierPlan]
    indicators: list[str]
    indicator_sql: str = ""  # keys and indicator values (for a diagnosis of a few firms)


def _layers_for(plan: TierPlan, layers: list[list[str]]) -> None:
    """Add this tier's criterion columns to the layers (0: leaves and points; k: compositions)."""
    pack = plan.pack
    for top in pack.criteria:
        for c in top.walk():
            if not assessed(c):
                if c.judgement or not c.assessed:
                    plan.review.append(c.id)
                continue
            if (c.bands is not None or c.best_of is not None) and c.role == "score" and c is top:
                name = f"{plan.tier}__{c.id}__pts"
                integral = whole_points(c)
                if c.best_of is not None:  # options in layer 0, the best of them (NULL if any is) in layer 1
                    parts = [f"{plan.tier}__{ch.id}__pts" for ch in c.best_of]
                    for ch, part in zip(c.best_of, parts, strict=True):
                        layers[0].append(f"{band_points_sql(ch, integral)} AS {quote(part)}")
                    nulls = " OR ".join(f"{quote(p)} IS NULL" for p in parts)
                    while len(layers) < 2:
                        layers.append([])
                    layers[1].append(f"CASE WHEN {nulls} THEN NULL ELSE GREATEST({', '.join(map(quote, parts))}) END "
                                     f"AS {quote(name)}")
                else:
                    layers[0].append(f"{band_points_sql(c, integral)} AS {quote(name)}")
                plan.points[c.id] = name
                continue
            if c.bands is not None:  # a band set under best_of: computed with its parent
                continue
            name = f"{plan.tier}__{c.id}"
            plan.status[c.id] = name
            h = height(c)
            while len(layers) <= h:
                layers.append([])
            if h == 0:
                layers[0].append(f"{leaf_sql(c)} AS {quote(name)}")
            else:
                kids = [f"{plan.tier}__{k.id}" for k in c.children() if assessed(k)]
                layers[h].append(f"{compose_sql(c, [quote(k) for k in kids])} AS {quote(name)}")
            if not c.verified:
                plan.unverified.append(c.id)
    for c in pack.criteria:
        if c.role == "score" and not c.verified and c.id not in plan.unverified:
            plan.unverified.append(c.id)


def _verdict_layers(plan: TierPlan) -> list[list[str]]:
    """Layers of one tier's verdict, each value computed once and read by name in the next layer.

    1: routes, required conditions, group scores (known and best possible), best gain per group;
    2: total scores; 3: score test and "one indicator would close the gap"; 4: path; 5: outcome;
    6: one-short flag.
    """
    pack, rule = plan.pack, plan.pack.pass_rule
    q = lambda suffix: quote(plan.col(suffix))  # noqa: E731
    scored = [c for c in pack.criteria if c.role == "score"]
    integral = all(whole_points(c) for c in scored)
    total = "SMALLINT" if integral else "REAL"
    groups: dict[str, dict[str, list[str]]] = {}
    for c in scored:
        top = points_literal(c.max_points, integral)
        g = groups.setdefault(c.group or "_", {"known": [], "upper": [], "gain": []})
        if c.id in plan.points:
            col = quote(plan.points[c.id])
            g["known"].append(f"COALESCE({col}, 0)")
            g["upper"].append(f"COALESCE({col}, {top})")
            g["gain"].append(f"{top} - COALESCE({col}, 0)")
        else:  # not assessable by rule: earns nothing for sure, up to max_points at best
            g["upper"].append(top)
    plan.groups = [g for g in groups if g != "_"]
    has_score = rule is not None and rule.score_at_least is not None
    required = [quote(plan.status[c.id]) for c in pack.criteria
                if c.role in ("condition", "baseline") and c.id in plan.status]
    direct = [quote(plan.status[c.id]) for c in pack.criteria if c.role == "direct_route" and c.id in plan.status]
    first = [f"{least(required)} AS {q('required')}",
             f"{greatest(direct) if direct else const(FAIL)} AS {q('direct')}"]
    for g, parts in groups.items():
        first.append(f"CAST({sum_sql(parts['known'])} AS {total}) AS {q('group_' + g)}")
        first.append(f"CAST({sum_sql(parts['upper'])} AS {total}) AS {q('group_max_' + g)}")
    second = []
    if scored:
        second = [f"{sum_sql([q('group_' + g) for g in groups])} AS {q('score')}",
                  f"{sum_sql([q('group_max_' + g) for g in groups])} AS {q('score_max')}"]
    third, fourth = [], []
    if has_score:
        p = points_literal(rule.score_at_least, integral and float(rule.score_at_least).is_integer())
        mins = rule.group_minimums
        ok = " AND ".join([f"{q('score')} >= {p}"]
                          + [f"{q('group_' + g)} >= {literal(float(v))}" for g, v in mins.items()])
        bad = " OR ".join([f"{q('score_max')} < {p}"] + [f"{q('group_max_' + g)} < {literal(float(v))}"
                                                       for g, v in mins.items()])
        third.append(f"CASE WHEN {ok} THEN {const(PASS)} WHEN {bad} THEN {const(FAIL)} ELSE {const(UNKNOWN)} END "
                     f"AS {q('score_status')}")
        fourth.append(f"GREATEST({q('score_status')}, {q('direct')}) AS {q('path')}")
    else:
        fourth.append(f"{q('direct') if direct else const(PASS)} AS {q('path')}")
    # a required criterion left to a reviewer (market position, six basics) caps the outcome at
    # "qualifies pending review": it is never a pass by default
    judged = any(not assessed(c) for c in pack.criteria if c.role in ("condition", "baseline"))
    cap = f", {const(WARN)}" if judged else ""
    fifth = [f"LEAST({q('required')}, {q('path')}{cap}) AS {q('outcome')}"]
    return [first, second, third, fourth, fifth]


def one_short_sql(plan: TierPlan) -> str:
    """Whether the firm is one criterion short of this tier (read only for firms whose next tier it is).

    No required criterion unknown and exactly one unit failing, where a failing score path counts as
    one unit when raising a single scored indicator to its maximum closes the total and every group
    gap: the best gain of some group g covers the total's shortfall and g's own, every other group
    already meeting its minimum.
    """
    pack, rule = plan.pack, plan.pack.pass_rule
    q = lambda suffix: quote(plan.col(suffix))  # noqa: E731
    required = [quote(plan.status[c.id]) for c in pack.criteria
                if c.role in ("condition", "baseline") and c.id in plan.status]
    counts = sum_sql([f"(CASE WHEN {r} = {FAIL} THEN 1 WHEN {r} = {UNKNOWN} THEN 100 ELSE 0 END)"
                      for r in required]) if required else "0"
    one_fix = "FALSE"
    if rule is not None and rule.score_at_least is not None:
        scored = [c for c in pack.criteria if c.role == "score"]
        integral = all(whole_points(c) for c in scored)
        p = points_literal(rule.score_at_least, integral and float(rule.score_at_least).is_integer())
        gains: dict[str, list[str]] = {}
        for c in scored:
            if c.id in plan.points:
                top = points_literal(c.max_points, integral)
                gains.setdefault(c.group or "_", []).append(f"{top} - COALESCE({quote(plan.points[c.id])}, 0)")
        fixes = []
        for g, parts in gains.items():
            gain = f"{greatest(parts)}" if len(parts) == 1 else f"({greatest(parts)})"
            tests = [f"{q('score')} + {gain} >= {p}"]
            for h, v in rule.group_minimums.items():
                tests.append(f"{q('group_' + h)}{' + ' + gain if h == g else ''} >= {literal(float(v))}")
            fixes.append("(" + " AND ".join(tests) + ")")
        one_fix = " OR ".join(fixes) or "FALSE"
    path_units = f"(CASE WHEN {q('path')} = {FAIL} THEN (CASE WHEN {one_fix} THEN 1 ELSE 2 END) ELSE 0 END)"
    path_unknown = f"(CASE WHEN {q('path')} = {UNKNOWN} THEN 100 ELSE 0 END)"
    return f"({q('outcome')} = {FAIL} AND {counts} + {path_unknown} + {path_units} = 1)"


def _summary_columns(plans: list[TierPlan]) -> list[str]:
    """Highest qualifying tier and highest held tier (rank in the tier order, -1 for none)."""
    qual = {p.tier: f"{quote(p.col('outcome'))} >= {WARN}" for p in plans}
    top_first = list(reversed(list(enumerate(plans))))
    highest = " ".join(f"WHEN {qual[p.tier]} THEN {const(i)}" for i, p in top_first)
    held = " ".join(f"WHEN {quote('designated_' + p.tier)} THEN {const(i)}" for i, p in top_first)
    return [f"CASE {highest} ELSE {const(-1)} END AS highest_rank",
            f"CASE {held} ELSE {const(-1)} END AS designated_rank"]


def _final_columns(plans: list[TierPlan]) -> list[str]:
    """Next tier and the three list flags."""
    n = len(plans)
    short = " ".join(f"WHEN highest_rank + 1 = {i} THEN {one_short_sql(p)}" for i, p in enumerate(plans))
    end = " OR ".join(f"({quote(p.col('outcome'))} >= {WARN} AND NOT COALESCE({quote('designated_' + p.tier)}, FALSE))"
                      for p in plans)
    dnle = " OR ".join(f"(COALESCE({quote('designated_' + p.tier)}, FALSE) AND {quote(p.col('outcome'))} = {FAIL})"
                       for p in plans)
    return [
        f"CASE WHEN highest_rank + 1 < {n} THEN CAST(highest_rank + 1 AS TINYINT) END AS next_rank",
        f"COALESCE(CASE {short} ELSE FALSE END, FALSE) AS one_short_of_next",
        f"({end}) AS eligible_not_designated",
        f"({dnle}) AS designated_not_eligible",
    ]


def evidence_columns(plans: list[TierPlan]) -> list[str]:
    """The result's columns besides the keys: each tier's evidence, then the summary."""
    cols: list[str] = []
    for p in plans:
        cols += list(p.status.values()) + list(p.points.values())
        if p.points:
            cols += [p.col("score"), p.col("score_max")] + [p.col("group_" + g) for g in p.groups]
        cols += [p.col("required"), p.col("direct"), p.col("path"), p.col("outcome")]
        if p.pack.pass_rule is not None and p.pack.pass_rule.score_at_least is not None:
            cols.append(p.col("score_status"))
    cols += [f"designated_{p.tier}" for p in plans]
    return cols + ["highest_rank", "designated_rank", "next_rank", "one_short_of_next",
                   "eligible_not_designated", "designated_not_eligible"]


def indicator_exprs(plans: list[TierPlan]) -> dict[str, str]:
    """Column name -> SQL expression of every indicator the plans' assessed criteria read."""
    needed: dict[str, str] = {}
    for plan in plans:
        for c in plan.pack.all_criteria():
            if c.indicator is not None and assessed(c):
                info = indicator_info(c.indicator)
                name = indicator_column(c.indicator, c.params)
                needed[name] = info.expr.format(**{**info.params, **c.params}) if info.expr else name
    return needed


def indicator_select(needed: dict[str, str]) -> list[str]:
    """The SELECT items computing `needed` (a bare column where the indicator is one)."""
    return [f"{e} AS {quote(n)}" if e != n else quote(n) for n, e in needed.items()]


def compile_tiers(packs: list[Pack], source: str = "facts", keys: tuple[str, ...] = ("uscc",)) -> QueryPlan:
    """One SQL query evaluating every firm of `source` against every pack (one pack per tier)."""
    plans = [TierPlan(tier=p.tier or p.id, pack=p) for p in packs]
    layers: list[list[str]] = [[]]
    for plan in plans:
        _layers_for(plan, layers)
    needed = indicator_exprs(plans)
    designated = [f"designated_{p.tier}" for p in plans]
    ind_cols = indicator_select(needed)
    sql = f"SELECT {', '.join([*keys, *designated, *ind_cols])} FROM {source}"
    indicator_sql = sql
    verdicts = [_verdict_layers(p) for p in plans]
    for layer in [*layers, *([c for v in verdicts for c in v[i]] for i in range(len(verdicts[0]))),
                  _summary_columns(plans), _final_columns(plans)]:
        if layer:
            sql = f"SELECT *, {', '.join(layer)} FROM ({sql}) AS q"
    out = [*keys, *evidence_columns(plans)]
    sql = f"SELECT {', '.join(quote(c) for c in out)} FROM ({sql}) AS q"
    return QueryPlan(sql=sql, tiers=plans, indicators=list(needed), indicator_sql=indicator_sql)
