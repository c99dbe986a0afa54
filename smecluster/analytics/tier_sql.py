"""SQL pieces only the tier query needs (band points, layers, sums); leaf statuses, comparisons
and compositions come from the one criteria compiler, smecluster.policy.compile.
"""

from __future__ import annotations

from smecluster.policy.compile import (  # noqa: F401  (the shared compiler, re-exported for the tier query)
    FAIL,
    NOT_ASSESSED,
    PASS,
    STATUS_LABELS,
    UNKNOWN,
    WARN,
    assessed,
    compare_sql,
    compose_sql,
    const,
    indicator_column,
    leaf_sql,
    literal,
    quote,
)
from smecluster.policy.compile import rounding as _rounding
from smecluster.policy.pack import Criterion

# 2 (warn): every rule passes but a required criterion is a reviewer's judgement (or soft), so the
# firm qualifies only if the reviewer agrees: never a plain pass by default.
OUTCOME_LABELS = ("does_not_qualify", "unknown", "qualifies_pending_review", "qualifies")


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
