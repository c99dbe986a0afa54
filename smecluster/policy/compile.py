"""Criteria compiled to SQL column expressions: the one compiler for clusters and tiers.

One expression model (the pack) and one output language: portable SQL (CASE, CAST, LEAST,
GREATEST, comparisons) that DuckDB runs here over Arrow tables and Spark SQL can run over the same
columns. A criterion's status is a 1-byte code ordered so that ALL is LEAST and ANY is GREATEST:
fail 0 < unknown 1 < warn 2 < pass 3; not_assessed is 4. Missing data is never a pass.
"""

from __future__ import annotations

from decimal import Decimal

from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.policy.pack import Criterion

DEFAULT_DECIMALS = {"ratio": 6, "count": 0, "km2": 2, "wan_yuan": 2, "years": 2, "points": 2}
FAIL, UNKNOWN, WARN, PASS, NOT_ASSESSED = 0, 1, 2, 3, 4
STATUS_LABELS = ("fail", "unknown", "warn", "pass", "not_assessed")


def indicator_column(name: str, params: dict | None = None) -> str:
    """Column name of an indicator with its parameters (defaults from the catalogue)."""
    info = indicator_info(name)
    merged = {**info.params, **(params or {})}
    extra = {k: v for k, v in merged.items() if info.params.get(k) != v}
    if not extra:
        return name
    return name + "".join(f"__{k}_{v}" for k, v in sorted(extra.items()))


def quote(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value) -> str:
    """A SQL literal of a number or a flag."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return repr(float(value)) if isinstance(value, float) else str(value)


def const(value, sql_type: str = "TINYINT") -> str:
    """A typed constant (folded once by the engine, so a CASE yields 1-byte codes at no row cost)."""
    return f"CAST({value} AS {sql_type})"


def decimals_for(c: Criterion) -> int | None:
    """Precision at which a criterion compares (the text's stated precision)."""
    if c.decimals is not None:
        return c.decimals
    return DEFAULT_DECIMALS.get(indicator_info(c.indicator).unit)


def rounding(c: Criterion) -> int | None:
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


def assessed(c: Criterion) -> bool:
    """Whether a criterion is decided by rule (not left to a reviewer)."""
    return c.assessed and not c.judgement


def leaf_sql(c: Criterion) -> str:
    """Status code of a leaf test; a NULL value (missing data) gives unknown, never pass."""
    failing = WARN if c.soft else FAIL
    col = quote(indicator_column(c.indicator, c.params))
    test = compare_sql(col, c.comparator, c.threshold, rounding(c))
    return f"CASE WHEN {test} THEN {const(PASS)} WHEN {col} IS NULL THEN {const(UNKNOWN)} ELSE {const(failing)} END"


def compose_sql(c: Criterion, children: list[str]) -> str:
    """Status code of an any / all / at_least composition from its assessed children's status SQL."""
    if not children:
        return const(NOT_ASSESSED)
    if c.any is not None:
        return children[0] if len(children) == 1 else f"GREATEST({', '.join(children)})"
    if c.all is not None:
        return children[0] if len(children) == 1 else f"LEAST({', '.join(children)})"
    passed = " + ".join(f"(CASE WHEN {x} = {PASS} THEN 1 ELSE 0 END)" for x in children)
    hopeful = " + ".join(f"(CASE WHEN {x} IN ({PASS}, {WARN}, {UNKNOWN}) THEN 1 ELSE 0 END)" for x in children)
    return (f"CAST(CASE WHEN {passed} >= {c.at_least} THEN {PASS} WHEN {hopeful} >= {c.at_least} "
            f"THEN {UNKNOWN} ELSE {FAIL} END AS TINYINT)")


def status_code_sql(c: Criterion) -> str:
    """Status code of any criterion, its compositions nested (the tier query layers them instead)."""
    if not assessed(c):
        return const(NOT_ASSESSED)
    if c.bands is not None:
        col = quote(indicator_column(c.indicator, c.params))
        return f"CASE WHEN {col} IS NULL THEN {const(UNKNOWN)} ELSE {const(PASS)} END"
    if c.indicator is not None:
        return leaf_sql(c)
    return compose_sql(c, [status_code_sql(k) for k in c.children() if assessed(k)])


def status_sql(c: Criterion) -> str:
    """Status label ('pass', 'fail', 'warn', 'unknown', 'not_assessed') of a criterion."""
    labels = " ".join(f"WHEN {code} THEN '{label}'" for code, label in enumerate(STATUS_LABELS))
    return f"CASE {status_code_sql(c)} {labels} END"


def required_columns(criteria: list[Criterion]) -> set[tuple[str, tuple]]:
    """(indicator, params) pairs a list of criteria needs computed."""
    out: set[tuple[str, tuple]] = set()
    for top in criteria:
        for c in top.walk():
            if c.indicator is not None and assessed(c):
                info = indicator_info(c.indicator)
                merged = {**info.params, **c.params}
                out.add((c.indicator, tuple(sorted(merged.items()))))
    return out
