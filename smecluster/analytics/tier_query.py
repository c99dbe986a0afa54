"""Tier packs compiled to one layered SQL query over the enterprise fact table.

Every firm against every tier in one pass of column expressions (no loop over firms). Statuses are
small integer codes ordered so that ALL is LEAST and ANY is GREATEST: fail 0 < unknown 1 < warn 2 <
pass 3; not_assessed (4) is left out of compositions and reported for review. Missing data gives
unknown, never pass. The SQL is portable (CASE, LEAST, GREATEST, ROUND, COALESCE), so the same text
runs in DuckDB here and in Spark SQL over the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.policy.compile import decimals_for, indicator_column
from smecluster.policy.pack import Criterion, Pack

FAIL, UNKNOWN, WARN, PASS, NOT_ASSESSED = 0, 1, 2, 3, 4
STATUS_LABELS = ("fail", "unknown", "warn", "pass", "not_assessed")
OUTCOME_LABELS = ("does_not_qualify", "unknown", "qualifies", "qualifies")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return repr(float(value)) if isinstance(value, float) else str(value)


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


def _rounding(c: Criterion) -> int | None:
    """Decimals a criterion compares at (None: compared as is: flags, codes, ranks)."""
    if isinstance(c.threshold, bool) or indicator_info(c.indicator).unit in ("bool", "code", "rank"):
        return None
    return decimals_for(c)


def compare_sql(col: str, comparator: str, threshold, decimals: int | None) -> str:
    """`ROUND(col, decimals) comparator threshold`, written without ROUND.

    Rounding half away from zero to d decimals and then comparing equals comparing the raw value
    with the threshold moved by half a unit of the last decimal (h): x rounds to >= t iff x >= t - h,
    to > t iff x >= t + h, to <= t iff x < t + h, to < t iff x < t - h. The shifted threshold is
    computed once here, so each row costs one comparison instead of a ROUND and a comparison.
    """
    if decimals is None or isinstance(threshold, bool):
        return f"{col} {comparator} {_lit(threshold)}"
    t, h = Decimal(str(threshold)), Decimal(5) / Decimal(10) ** (decimals + 1)
    lo, hi = _lit(float(t - h)), _lit(float(t + h))
    return {
        ">=": f"{col} >= {lo}", ">": f"{col} >= {hi}", "<=": f"{col} < {hi}", "<": f"{col} < {lo}",
        "==": f"({col} >= {lo} AND {col} < {hi})",
    }[comparator]


def _c(value, sql_type: str = "TINYINT") -> str:
    """A typed constant (folded once by the engine, so a CASE yields 1-byte codes at no row cost)."""
    return f"CAST({value} AS {sql_type})"


def leaf_sql(c: Criterion) -> str:
    """Status code of a leaf test; a NULL value (missing data) gives unknown, never pass."""
    failing = WARN if c.soft else FAIL
    col = _q(indicator_column(c.indicator, c.params))
    test = compare_sql(col, c.comparator, c.threshold, _rounding(c))
    return f"CASE WHEN {test} THEN {_c(PASS)} WHEN {col} IS NULL THEN {_c(UNKNOWN)} ELSE {_c(failing)} END"


def _steps(bands: list) -> list | None:
    """Bands that tile the number line upwards (each starts where the last ends), sorted; else None."""
    if any(b.equals is not None for b in bands):
        return None
    ordered = sorted(bands, key=lambda b: -float("inf") if b.min is None else b.min)
    if ordered[0].min is not None or ordered[-1].max is not None:
        return None
    for lower, upper in zip(ordered, ordered[1:], strict=False):
        if lower.max != upper.min or lower.max_inclusive == upper.min_inclusive:
            return None
    return ordered


def _integral(c: Criterion) -> bool:
    """Whether every band of the criterion (and of its best_of options) gives whole points."""
    bands = [b for ch in [c, *(c.best_of or [])] for b in (ch.bands or [])]
    return all(float(b.points).is_integer() and abs(b.points) < 100 for b in bands) and (c.max_points or 0) < 100


def _pts(value: float, integral: bool) -> str:
    return str(int(value)) if integral else _lit(float(value))


def points_type(c: Criterion) -> str:
    """SQL type of a criterion's points: TINYINT for whole points (the texts' case), else REAL."""
    return "TINYINT" if _integral(c) else "REAL"


def band_points_sql(c: Criterion, integral: bool = True) -> str:
    """Points a banded criterion earns; NULL when its indicator is missing.

    A CASE, highest band first for bands that tile the line (each WHEN sees only the rows not yet
    matched, so most rows need one or two comparisons); a value outside every band earns 0.
    """
    col = _q(indicator_column(c.indicator, c.params))
    d = _rounding(c)
    ty = "TINYINT" if integral else "REAL"
    steps = _steps(c.bands or [])
    whens = []
    if steps is not None:
        for b in reversed(steps[1:]):
            test = compare_sql(col, ">=" if b.min_inclusive else ">", b.min, d)
            whens.append(f"WHEN {test} THEN {_c(_pts(b.points, integral), ty)}")
        base = _pts(steps[0].points, integral)
    else:
        for b in c.bands or []:
            tests = []
            if b.equals is not None:
                tests.append(f"{col} = {_lit(b.equals)}")
            if b.min is not None:
                tests.append(compare_sql(col, ">=" if b.min_inclusive else ">", b.min, d))
            if b.max is not None:
                tests.append(compare_sql(col, "<=" if b.max_inclusive else "<", b.max, d))
            whens.append(f"WHEN {' AND '.join(tests) or 'TRUE'} THEN {_c(_pts(b.points, integral), ty)}")
        base = _pts(0, integral)
    return f"CASE {' '.join(whens)} WHEN {col} IS NOT NULL THEN {_c(base, ty)} END"


def _height(c: Criterion) -> int:
    kids = c.children()
    return 0 if not kids or c.best_of is not None else 1 + max(_height(k) for k in kids)


def _assessed(c: Criterion) -> bool:
    return c.assessed and not c.judgement


def _compose(c: Criterion, child_cols: list[str]) -> str:
    if not child_cols:
        return f"CAST({NOT_ASSESSED} AS TINYINT)"
    cols = [_q(x) for x in child_cols]
    if c.any is not None:
        return cols[0] if len(cols) == 1 else f"GREATEST({', '.join(cols)})"
    if c.all is not None:
        return cols[0] if len(cols) == 1 else f"LEAST({', '.join(cols)})"
    passed = " + ".join(f"(CASE WHEN {x} = {PASS} THEN 1 ELSE 0 END)" for x in cols)
    hopeful = " + ".join(f"(CASE WHEN {x} IN ({PASS}, {WARN}, {UNKNOWN}) THEN 1 ELSE 0 END)" for x in cols)
    return (f"CAST(CASE WHEN {passed} >= {c.at_least} THEN {PASS} WHEN {hopeful} >= {c.at_least} "
            f"THEN {UNKNOWN} ELSE {FAIL} END AS TINYINT)")


def _layers_for(plan: TierPlan, layers: list[list[str]]) -> None:
    """Add this tier's criterion columns to the layers (0: leaves and points; k: compositions)."""
    pack = plan.pack
    for top in pack.criteria:
        for c in top.walk():
            if not _assessed(c):
                if c.judgement or not c.assessed:
                    plan.review.append(c.id)
                continue
            if (c.bands is not None or c.best_of is not None) and c.role == "score" and c is top:
                name = f"{plan.tier}__{c.id}__pts"
                integral = _integral(c)
                if c.best_of is not None:  # options in layer 0, the best of them (NULL if any is) in layer 1
                    parts = [f"{plan.tier}__{ch.id}__pts" for ch in c.best_of]
                    for ch, part in zip(c.best_of, parts, strict=True):
                        layers[0].append(f"{band_points_sql(ch, integral)} AS {_q(part)}")
                    nulls = " OR ".join(f"{_q(p)} IS NULL" for p in parts)
                    while len(layers) < 2:
                        layers.append([])
                    layers[1].append(f"CASE WHEN {nulls} THEN NULL ELSE GREATEST({', '.join(map(_q, parts))}) END "
                                     f"AS {_q(name)}")
                else:
                    layers[0].append(f"{band_points_sql(c, integral)} AS {_q(name)}")
                plan.points[c.id] = name
                continue
            if c.bands is not None:  # a band set under best_of: computed with its parent
                continue
            name = f"{plan.tier}__{c.id}"
            plan.status[c.id] = name
            h = _height(c)
            while len(layers) <= h:
                layers.append([])
            if h == 0:
                layers[0].append(f"{leaf_sql(c)} AS {_q(name)}")
            else:
                kids = [f"{plan.tier}__{k.id}" for k in c.children() if _assessed(k)]
                layers[h].append(f"{_compose(c, kids)} AS {_q(name)}")
            if not c.verified:
                plan.unverified.append(c.id)
    for c in pack.criteria:
        if c.role == "score" and not c.verified and c.id not in plan.unverified:
            plan.unverified.append(c.id)


def _sum(parts: list[str]) -> str:
    return " + ".join(parts) if parts else "0.0"


def _verdict_layers(plan: TierPlan) -> list[list[str]]:
    """Layers of one tier's verdict, each value computed once and read by name in the next layer.

    1: routes, required conditions, group scores (known and best possible), best gain per group;
    2: total scores; 3: score test and "one indicator would close the gap"; 4: path; 5: outcome;
    6: one-short flag.
    """
    pack, rule = plan.pack, plan.pack.pass_rule
    q = lambda suffix: _q(plan.col(suffix))  # noqa: E731
    scored = [c for c in pack.criteria if c.role == "score"]
    integral = all(_integral(c) for c in scored)
    total = "SMALLINT" if integral else "REAL"
    groups: dict[str, dict[str, list[str]]] = {}
    for c in scored:
        top = _pts(c.max_points, integral)
        g = groups.setdefault(c.group or "_", {"known": [], "upper": [], "gain": []})
        if c.id in plan.points:
            col = _q(plan.points[c.id])
            g["known"].append(f"COALESCE({col}, 0)")
            g["upper"].append(f"COALESCE({col}, {top})")
            g["gain"].append(f"{top} - COALESCE({col}, 0)")
        else:  # not assessable by rule: earns nothing for sure, up to max_points at best
            g["upper"].append(top)
    plan.groups = [g for g in groups if g != "_"]
    has_score = rule is not None and rule.score_at_least is not None
    required = [_q(plan.status[c.id]) for c in pack.criteria
                if c.role in ("condition", "baseline") and c.id in plan.status]
    direct = [_q(plan.status[c.id]) for c in pack.criteria if c.role == "direct_route" and c.id in plan.status]
    first = [f"{_least(required)} AS {q('required')}", f"{_greatest(direct) if direct else _c(FAIL)} AS {q('direct')}"]
    for code, name in ((FAIL, "n_fail"), (UNKNOWN, "n_unknown")):
        first.append(f"{_sum([f'(CASE WHEN {r} = {code} THEN 1 ELSE 0 END)' for r in required]) if required else '0'}"
                     f" AS {q(name)}")
    for g, parts in groups.items():
        first.append(f"CAST({_sum(parts['known'])} AS {total}) AS {q('group_' + g)}")
        first.append(f"CAST({_sum(parts['upper'])} AS {total}) AS {q('group_max_' + g)}")
        if has_score:
            first.append(f"{_greatest(parts['gain']) if parts['gain'] else '0'} AS {q('gain_' + g)}")
    second = []
    if scored:
        second = [f"{_sum([q('group_' + g) for g in groups])} AS {q('score')}",
                  f"{_sum([q('group_max_' + g) for g in groups])} AS {q('score_max')}"]
    third, fourth = [], []
    if has_score:
        p = _pts(rule.score_at_least, integral and float(rule.score_at_least).is_integer())
        mins = rule.group_minimums
        ok = " AND ".join([f"{q('score')} >= {p}"]
                          + [f"{q('group_' + g)} >= {_lit(float(v))}" for g, v in mins.items()])
        bad = " OR ".join([f"{q('score_max')} < {p}"] + [f"{q('group_max_' + g)} < {_lit(float(v))}"
                                                       for g, v in mins.items()])
        third.append(f"CASE WHEN {ok} THEN {_c(PASS)} WHEN {bad} THEN {_c(FAIL)} ELSE {_c(UNKNOWN)} END "
                     f"AS {q('score_status')}")
        # One scored indicator raised to its maximum closes the gap: the best gain of some group g covers
        # the total's shortfall and g's own, every other group already meeting its minimum.
        fixes = []
        for g in groups:
            gain = q("gain_" + g)
            tests = [f"{q('score')} + {gain} >= {p}"]
            for h, v in mins.items():
                tests.append(f"{q('group_' + h)}{' + ' + gain if h == g else ''} >= {_lit(float(v))}")
            fixes.append("(" + " AND ".join(tests) + ")")
        third.append(f"({' OR '.join(fixes) or 'FALSE'}) AS {q('one_fix')}")
        fourth.append(f"GREATEST({q('score_status')}, {q('direct')}) AS {q('path')}")
    else:
        third.append(f"FALSE AS {q('one_fix')}")
        fourth.append(f"{q('direct') if direct else _c(PASS)} AS {q('path')}")
    fifth = [f"LEAST({q('required')}, {q('path')}) AS {q('outcome')}"]
    path_units = f"(CASE WHEN {q('path')} = {FAIL} THEN (CASE WHEN {q('one_fix')} THEN 1 ELSE 2 END) ELSE 0 END)"
    path_unknown = f"(CASE WHEN {q('path')} = {UNKNOWN} THEN 1 ELSE 0 END)"
    sixth = [f"({q('outcome')} = {FAIL} AND {q('n_unknown')} + {path_unknown} = 0 "
             f"AND {q('n_fail')} + {path_units} = 1) AS {q('one_short')}"]
    return [first, second, third, fourth, fifth, sixth]


def _least(cols: list[str]) -> str:
    if not cols:
        return _c(PASS)
    return cols[0] if len(cols) == 1 else f"LEAST({', '.join(cols)})"


def _greatest(cols: list[str]) -> str:
    return cols[0] if len(cols) == 1 else f"GREATEST({', '.join(cols)})"


def _summary_columns(plans: list[TierPlan]) -> list[str]:
    """Highest qualifying tier and highest held tier (rank in the tier order, -1 for none)."""
    qual = {p.tier: f"{_q(p.col('outcome'))} >= {WARN}" for p in plans}
    highest = " ".join(f"WHEN {qual[p.tier]} THEN {_c(i)}" for i, p in reversed(list(enumerate(plans))))
    held = " ".join(f"WHEN {_q('designated_' + p.tier)} THEN {_c(i)}" for i, p in reversed(list(enumerate(plans))))
    return [f"CASE {highest} ELSE {_c(-1)} END AS highest_rank", f"CASE {held} ELSE {_c(-1)} END AS designated_rank"]


def _final_columns(plans: list[TierPlan]) -> list[str]:
    """Next tier and the three list flags."""
    n = len(plans)
    short = " ".join(f"WHEN highest_rank + 1 = {i} THEN {_q(p.col('one_short'))}" for i, p in enumerate(plans))
    end = " OR ".join(f"({_q(p.col('outcome'))} >= {WARN} AND NOT COALESCE({_q('designated_' + p.tier)}, FALSE))"
                      for p in plans)
    dnle = " OR ".join(f"(COALESCE({_q('designated_' + p.tier)}, FALSE) AND {_q(p.col('outcome'))} = {FAIL})"
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
        cols += [p.col("required"), p.col("direct"), p.col("path"), p.col("outcome"), p.col("one_short")]
        if p.pack.pass_rule is not None and p.pack.pass_rule.score_at_least is not None:
            cols.append(p.col("score_status"))
    cols += [f"designated_{p.tier}" for p in plans]
    return cols + ["highest_rank", "designated_rank", "next_rank", "one_short_of_next",
                   "eligible_not_designated", "designated_not_eligible"]


def compile_tiers(packs: list[Pack], source: str = "facts", keys: tuple[str, ...] = ("uscc",)) -> QueryPlan:
    """One SQL query evaluating every firm of `source` against every pack (one pack per tier)."""
    plans = [TierPlan(tier=p.tier or p.id, pack=p) for p in packs]
    layers: list[list[str]] = [[]]
    for plan in plans:
        _layers_for(plan, layers)
    needed: dict[str, str] = {}
    for plan in plans:
        for c in plan.pack.all_criteria():
            if c.indicator is not None and _assessed(c):
                info = indicator_info(c.indicator)
                name = indicator_column(c.indicator, c.params)
                needed[name] = info.expr.format(**{**info.params, **c.params}) if info.expr else name
    designated = [f"designated_{p.tier}" for p in plans]
    ind_cols = [f"{e} AS {_q(n)}" if e != n else _q(n) for n, e in needed.items()]
    sql = f"SELECT {', '.join([*keys, *designated, *ind_cols])} FROM {source}"
    indicator_sql = sql
    verdicts = [_verdict_layers(p) for p in plans]
    for layer in [*layers, *([c for v in verdicts for c in v[i]] for i in range(6)),
                  _summary_columns(plans), _final_columns(plans)]:
        if layer:
            sql = f"SELECT *, {', '.join(layer)} FROM ({sql}) AS q"
    out = [*keys, *evidence_columns(plans)]
    sql = f"SELECT {', '.join(_q(c) for c in out)} FROM ({sql}) AS q"
    return QueryPlan(sql=sql, tiers=plans, indicators=list(needed), indicator_sql=indicator_sql)
