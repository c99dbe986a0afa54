"""Criteria compiled to SQL column expressions.

One expression model (the pack) and one output language: portable SQL (CASE, ROUND, comparisons)
that DuckDB runs here over Arrow tables and Spark SQL can run over the same columns. Each criterion
becomes a status column ('pass', 'fail', 'warn', 'unknown', 'not_assessed'); missing data is
never a pass.
"""

from __future__ import annotations

from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.policy.pack import Criterion

DEFAULT_DECIMALS = {"ratio": 6, "count": 0, "km2": 2, "wan_yuan": 2, "years": 2, "points": 2}
STATUSES = ("pass", "fail", "warn", "unknown", "not_assessed")


def indicator_column(name: str, params: dict | None = None) -> str:
    """Column name of an indicator with its parameters (defaults from the catalogue)."""
    info = indicator_info(name)
    merged = {**info.params, **(params or {})}
    extra = {k: v for k, v in merged.items() if info.params.get(k) != v}
    if not extra:
        return name
    return name + "".join(f"__{k}_{v}" for k, v in sorted(extra.items()))


def _literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return repr(float(value)) if isinstance(value, float) else str(value)


def decimals_for(c: Criterion) -> int | None:
    """Precision at which a criterion compares (the text's stated precision)."""
    if c.decimals is not None:
        return c.decimals
    return DEFAULT_DECIMALS.get(indicator_info(c.indicator).unit)


def value_sql(c: Criterion) -> str:
    """The SQL of the value a leaf compares (rounded to the text's precision)."""
    col = f'"{indicator_column(c.indicator, c.params)}"'
    d = decimals_for(c)
    if isinstance(c.threshold, bool) or d is None:
        return col
    return f"ROUND(CAST({col} AS DOUBLE), {d})"


def status_sql(c: Criterion) -> str:
    """SQL expression giving the status of criterion `c` for one row."""
    if not c.assessed or c.judgement:
        return "'not_assessed'"
    if c.indicator is not None and c.bands is None:
        col = f'"{indicator_column(c.indicator, c.params)}"'
        failing = "'warn'" if c.soft else "'fail'"
        return (
            f"CASE WHEN {col} IS NULL THEN 'unknown' "
            f"WHEN {value_sql(c)} {c.comparator} {_literal(c.threshold)} THEN 'pass' "
            f"ELSE {failing} END"
        )
    if c.bands is not None:
        return f"CASE WHEN \"{indicator_column(c.indicator, c.params)}\" IS NULL THEN 'unknown' ELSE 'pass' END"
    children = [status_sql(ch) for ch in c.children()]
    if c.any is not None:
        return _any(children)
    if c.all is not None:
        return _all(children)
    return _at_least(children, c.at_least or 0)


def _count(children: list[str], status: str) -> str:
    return " + ".join(f"(CASE WHEN {ch} = '{status}' THEN 1 ELSE 0 END)" for ch in children)


def _any(children: list[str]) -> str:
    return (
        f"CASE WHEN {_count(children, 'pass')} > 0 THEN 'pass' "
        f"WHEN {_count(children, 'warn')} > 0 THEN 'warn' "
        f"WHEN {_count(children, 'unknown')} > 0 THEN 'unknown' ELSE 'fail' END"
    )


def _all(children: list[str]) -> str:
    return (
        f"CASE WHEN {_count(children, 'fail')} > 0 THEN 'fail' "
        f"WHEN {_count(children, 'unknown')} > 0 THEN 'unknown' "
        f"WHEN {_count(children, 'warn')} > 0 THEN 'warn' ELSE 'pass' END"
    )


def _at_least(children: list[str], n: int) -> str:
    passed = _count(children, "pass")
    hopeful = f"{passed} + {_count(children, 'unknown')} + {_count(children, 'warn')}"
    return (
        f"CASE WHEN {passed} >= {n} THEN 'pass' "
        f"WHEN {hopeful} >= {n} THEN 'unknown' ELSE 'fail' END"
    )


def points_sql(c: Criterion) -> str:
    """SQL expression giving the points a scored criterion earns (NULL when data is missing)."""
    col = f'"{indicator_column(c.indicator, c.params)}"'
    whens = []
    for b in c.bands or []:
        tests = []
        if b.equals is not None:
            tests.append(f"{col} = {_literal(b.equals)}")
        if b.min is not None:
            tests.append(f"{col} {'>=' if b.min_inclusive else '>'} {_literal(b.min)}")
        if b.max is not None:
            tests.append(f"{col} {'<=' if b.max_inclusive else '<'} {_literal(b.max)}")
        whens.append(f"WHEN {' AND '.join(tests) or 'TRUE'} THEN {_literal(b.points)}")
    return f"CASE WHEN {col} IS NULL THEN NULL {' '.join(whens)} ELSE 0 END"


def required_columns(criteria: list[Criterion]) -> set[tuple[str, tuple]]:
    """(indicator, params) pairs a list of criteria needs computed."""
    out: set[tuple[str, tuple]] = set()
    for top in criteria:
        for c in top.walk():
            if c.indicator is not None and c.assessed and not c.judgement:
                info = indicator_info(c.indicator)
                merged = {**info.params, **c.params}
                out.add((c.indicator, tuple(sorted(merged.items()))))
    return out
