"""SQL pieces of the tier query: comparisons at the text's precision, leaf statuses, band points.

Status codes are ordered so that ALL is LEAST and ANY is GREATEST: fail 0 < unknown 1 < warn 2 <
pass 3; not_assessed is 4. Every piece is portable SQL (CASE, CAST, COALESCE, LEAST, GREATEST).
"""

from __future__ import annotations

from decimal import Decimal

from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.policy.compile import decimals_for, indicator_column
from smecluster.policy.pack import Criterion

FAIL, UNKNOWN, WARN, PASS, NOT_ASSESSED = 0, 1, 2, 3, 4
STATUS_LABELS = ("fail", "unknown", "warn", "pass", "not_assessed")
OUTCOME_LABELS = ("does_not_qualify", "unknown", "qualifies", "qualifies")


def quote(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value) -> str:
    """A SQL literal of a number or a flag."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return repr(float(value)) if isinstance(value, float) else str(value)


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
        return f"{col} {comparator} {literal(threshold)}"
    t, h = Decimal(str(threshold)), Decimal(5) / Decimal(10) ** (decimals + 1)
    lo, hi = literal(float(t - h)), literal(float(t + h))
    return {
        ">=": f"{col} >= {lo}", ">": f"{col} >= {hi}", "<=": f"{col} < {hi}", "<": f"{col} < {lo}",
        "==": f"({col} >= {lo} AND {col} < {hi})",
    }[comparator]


def const(value, sql_type: str = "TINYINT") -> str:
    """A typed constant (folded once by the engine, so a CASE yields 1-byte codes at no row cost)."""
    return f"CAST({value} AS {sql_type})"


def leaf_sql(c: Criterion) -> str:
    """Status code of a leaf test; a NULL value (missing data) gives unknown, never pass."""
    failing = WARN if c.soft else FAIL
    col = quote(indicator_column(c.indicator, c.params))
    test = compare_sql(col, c.comparator, c.threshold, _rounding(c))
    return f"CASE WHEN {test} THEN {const(PASS)} WHEN {col} IS NULL THEN {const(UNKNOWN)} ELSE {const(failing)} END"


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


def whole_points(c: Criterion) -> bool:
    """Whether every band of the criterion (and of its best_of options) gives whole points."""
    bands = [b for ch in [c, *(c.best_of or [])] for b in (ch.bands or [])]
    return all(float(b.points).is_integer() and abs(b.points) < 100 for b in bands) and (c.max_points or 0) < 100


def points_literal(value: float, integral: bool) -> str:
    """Points as a SQL literal: whole numbers for whole-point criteria."""
    return str(int(value)) if integral else literal(float(value))


def points_type(c: Criterion) -> str:
    """SQL type of a criterion's points: TINYINT for whole points (the texts' case), else REAL."""
    return "TINYINT" if whole_points(c) else "REAL"


def band_points_sql(c: Criterion, integral: bool = True) -> str:
    """Points a banded criterion earns; NULL when its indicator is missing.

    A CASE, highest band first for bands that tile the line (each WHEN sees only the rows not yet
    matched, so most rows need one or two comparisons); a value outside every band earns 0.
    """
    col = quote(indicator_column(c.indicator, c.params))
    d = _rounding(c)
    ty = "TINYINT" if integral else "REAL"
    steps = _steps(c.bands or [])
    whens = []
    if steps is not None:
        for b in reversed(steps[1:]):
            test = compare_sql(col, ">=" if b.min_inclusive else ">", b.min, d)
            whens.append(f"WHEN {test} THEN {const(points_literal(b.points, integral), ty)}")
        base = points_literal(steps[0].points, integral)
    else:
        for b in c.bands or []:
            tests = []
            if b.equals is not None:
                tests.append(f"{col} = {literal(b.equals)}")
            if b.min is not None:
                tests.append(compare_sql(col, ">=" if b.min_inclusive else ">", b.min, d))
            if b.max is not None:
                tests.append(compare_sql(col, "<=" if b.max_inclusive else "<", b.max, d))
            whens.append(f"WHEN {' AND '.join(tests) or 'TRUE'} THEN {const(points_literal(b.points, integral), ty)}")
        base = points_literal(0, integral)
    return f"CASE {' '.join(whens)} WHEN {col} IS NOT NULL THEN {const(base, ty)} END"


def height(c: Criterion) -> int:
    """Depth of a composition (0 for a leaf or a best-of score): its layer in the query."""
    kids = c.children()
    return 0 if not kids or c.best_of is not None else 1 + max(height(k) for k in kids)


def assessed(c: Criterion) -> bool:
    """Whether a criterion is decided by rule (not left to a reviewer)."""
    return c.assessed and not c.judgement


def compose_sql(c: Criterion, child_cols: list[str]) -> str:
    """Status of an any / all / at_least composition from its children's status columns."""
    if not child_cols:
        return f"CAST({NOT_ASSESSED} AS TINYINT)"
    cols = [quote(x) for x in child_cols]
    if c.any is not None:
        return cols[0] if len(cols) == 1 else f"GREATEST({', '.join(cols)})"
    if c.all is not None:
        return cols[0] if len(cols) == 1 else f"LEAST({', '.join(cols)})"
    passed = " + ".join(f"(CASE WHEN {x} = {PASS} THEN 1 ELSE 0 END)" for x in cols)
    hopeful = " + ".join(f"(CASE WHEN {x} IN ({PASS}, {WARN}, {UNKNOWN}) THEN 1 ELSE 0 END)" for x in cols)
    return (f"CAST(CASE WHEN {passed} >= {c.at_least} THEN {PASS} WHEN {hopeful} >= {c.at_least} "
            f"THEN {UNKNOWN} ELSE {FAIL} END AS TINYINT)")


def sum_sql(parts: list[str]) -> str:
    """The SQL sum of some terms (0 when none)."""
    return " + ".join(parts) if parts else "0.0"


def least(cols: list[str]) -> str:
    """ALL of some statuses (pass when there are none)."""
    if not cols:
        return const(PASS)
    return cols[0] if len(cols) == 1 else f"LEAST({', '.join(cols)})"


def greatest(cols: list[str]) -> str:
    """ANY of some statuses."""
    return cols[0] if len(cols) == 1 else f"GREATEST({', '.join(cols)})"
