"""Each kind of data-quality check as one whole-column SQL query (DuckDB; portable enough for Spark).

A builder takes the check and the run's context and returns a SELECT giving the finding columns
`uscc, county_code, year, field, value, detail, score, cluster_id, platform_id` for every doubtful
figure at once. The views it reads are set up by smecluster.quality.run:
- `q_firm`: enterprise with its section (uscc, name, county_code, industry_code, section);
- `q_seq`: the yearly rows each with the previous and next year's figures of the checked fields
  (`p_<field>`, `n_<field>`, NULL unless that year is present: consecutive years only);
- `enterprise_year`, `enterprise_profile`, `platform`, `cluster`, `cluster_member`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smecluster.quality.catalogue import Check

FIGURES = ("revenue", "output", "rd_spending", "employees", "rd_staff", "total_assets", "total_liabilities")
# Columns a builder may name (the YAML is data: names are checked before they reach the SQL).
SEQ_FIELDS = (*FIGURES, "reported_county", "reported_industry")


@dataclass(frozen=True)
class Context:
    """What a run fixes for every check: the year peers are compared in, the size-class CASE."""

    peer_year: int | None
    size_case: str


def _field(name: str, allowed: tuple[str, ...] = SEQ_FIELDS) -> str:
    if name not in allowed:
        raise ValueError(f"unknown figure {name!r} in a check (known: {', '.join(allowed)})")
    return name


def _num(value) -> str:
    return repr(float(value))


def _row(uscc="y.uscc", county="f.county_code", year="y.year", field="NULL", value="NULL", detail="NULL",
         score="NULL", cluster="NULL", platform="NULL") -> str:
    return (f"SELECT {uscc} AS uscc, {county} AS county_code, CAST({year} AS INTEGER) AS year, "
            f"CAST({field} AS VARCHAR) AS field, CAST({value} AS DOUBLE) AS value, "
            f"CAST({detail} AS VARCHAR) AS detail, CAST({score} AS DOUBLE) AS score, "
            f"CAST({cluster} AS BIGINT) AS cluster_id, CAST({platform} AS BIGINT) AS platform_id")


def _none() -> str:
    """No findings (a check with no registry SQL of its own), typed like every other."""
    return _row(uscc="NULL", county="NULL", year="NULL") + " WHERE FALSE"


def _text(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR)"


def column_above(check: Check, ctx: Context) -> str:
    """`field` above `ratio` x `bound` in the same year (e.g. R&D spending above revenue)."""
    p = check.params
    f, b, r = _field(p["field"], FIGURES), _field(p["bound"], FIGURES), _num(p.get("ratio", 1.0))
    return (_row(field=f"'{f}'", value=f"y.{f}", detail=f"'{b} ' || {_text(f'y.{b}')}",
                 score=f"y.{f} / NULLIF(y.{b}, 0)")
            + f" FROM enterprise_year y JOIN q_firm f ON f.uscc = y.uscc WHERE y.{f} > {r} * y.{b}")


def revenue_without_employees(check: Check, ctx: Context) -> str:
    """Revenue above a floor while persons employed is zero."""
    return (_row(field="'employees'", value="y.employees", detail="'revenue ' || CAST(y.revenue AS VARCHAR)",
                 score="y.revenue")
            + " FROM enterprise_year y JOIN q_firm f ON f.uscc = y.uscc "
            f"WHERE y.employees = 0 AND y.revenue > {_num(check.params.get('min_revenue', 0))}")


def main_revenue_above_revenue(check: Check, ctx: Context) -> str:
    """Main-business revenue (the tier profile's) above the year's total revenue."""
    r = _num(check.params.get("ratio", 1.0))
    return (_row(field="'main_revenue'", value="p.main_revenue", detail="'revenue ' || CAST(y.revenue AS VARCHAR)",
                 score="p.main_revenue / NULLIF(y.revenue, 0)")
            + " FROM enterprise_profile p JOIN enterprise_year y ON y.uscc = p.uscc AND y.year = p.year "
            f"JOIN q_firm f ON f.uscc = y.uscc WHERE p.main_revenue > {r} * y.revenue")


def _per_field(check: Check, build: Callable[[str], str]) -> str:
    return " UNION ALL ".join(build(_field(name, FIGURES)) for name in check.params["fields"])


def growth_beyond_bound(check: Check, ctx: Context) -> str:
    """Growth on the previous year above the bound (1 + growth times; never a division, so exact)."""
    g, floor = _num(check.params["growth"]), _num(check.params.get("min_previous", 0))
    return _per_field(check, lambda f: (
        _row(field=f"'{f}'", value=f"y.{f}", detail=f"'previous ' || CAST(y.p_{f} AS VARCHAR)",
             score=f"y.{f} / y.p_{f} - 1")
        + f" FROM q_seq y JOIN q_firm f ON f.uscc = y.uscc WHERE y.p_{f} >= {floor} AND y.p_{f} > 0 "
        f"AND y.{f} > (1 + {g}) * y.p_{f}"))


def fall_to_zero_and_back(check: Check, ctx: Context) -> str:
    """Positive, zero for one year, positive again (consecutive years)."""
    return _per_field(check, lambda f: (
        _row(field=f"'{f}'", value=f"y.{f}",
             detail=f"CAST(y.p_{f} AS VARCHAR) || ' -> 0 -> ' || CAST(y.n_{f} AS VARCHAR)", score=f"y.p_{f}")
        + f" FROM q_seq y JOIN q_firm f ON f.uscc = y.uscc WHERE y.{f} = 0 AND y.p_{f} > 0 AND y.n_{f} > 0"))


def magnitude_jump_and_return(check: Check, ctx: Context) -> str:
    """One year at least `factor` times above (or below) both neighbours: a slip of units or digits."""
    k = _num(check.params["factor"])
    return _per_field(check, lambda f: (
        _row(field=f"'{f}'", value=f"y.{f}",
             detail=f"CAST(y.p_{f} AS VARCHAR) || ' -> ' || CAST(y.{f} AS VARCHAR) || ' -> ' || CAST(y.n_{f} AS VARCHAR)",
             score=f"GREATEST(y.{f} / y.p_{f}, y.p_{f} / y.{f})")
        + f" FROM q_seq y JOIN q_firm f ON f.uscc = y.uscc WHERE y.p_{f} > 0 AND y.n_{f} > 0 AND y.{f} > 0 "
        f"AND ((y.{f} >= {k} * y.p_{f} AND y.{f} >= {k} * y.n_{f}) "
        f"OR (y.{f} * {k} <= y.p_{f} AND y.{f} * {k} <= y.n_{f}))"))


def _same_count(fields: list[str], left: str, right: str) -> str:
    # a figure counts as copied when both are present, equal and not zero (a dormant firm's zeros are no copy)
    return " + ".join(f"CASE WHEN {left}{f} = {right}{f} AND {left}{f} <> 0 THEN 1 ELSE 0 END" for f in fields)


def identical_across_years(check: Check, ctx: Context) -> str:
    """At least `min_fields` figures equal, to the last digit, to the year before."""
    fields = [_field(f, FIGURES) for f in check.params["fields"]]
    same = _same_count(fields, "y.", "y.p_")
    return (_row(field="'row'", value=f"({same})", detail="'same as ' || CAST(y.year - 1 AS VARCHAR)",
                 score=f"({same})")
            + f" FROM q_seq y JOIN q_firm f ON f.uscc = y.uscc WHERE ({same}) >= {int(check.params['min_fields'])}")


def identical_across_firms(check: Check, ctx: Context) -> str:
    """Two or more firms with the same figures in one year (at least `min_fields` of them present, non-zero)."""
    fields = [_field(f, FIGURES) for f in check.params["fields"]]
    n = int(check.params["min_fields"])
    present = " + ".join(f"CASE WHEN {f} IS NOT NULL AND {f} <> 0 THEN 1 ELSE 0 END" for f in fields)
    keys = ", ".join(fields)
    # the group key is the figures themselves (NULLs equal through IS NOT DISTINCT FROM in GROUP BY)
    return (
        f"WITH rows AS (SELECT uscc, year, {keys} FROM enterprise_year WHERE ({present}) >= {n}), "
        f"groups AS (SELECT year, {keys}, COUNT(*) AS firms, "
        "string_agg(uscc, ' ' ORDER BY uscc) AS codes FROM rows "
        f"GROUP BY year, {keys} HAVING COUNT(*) > 1) "
        + _row(uscc="r.uscc", year="r.year", field="'row'", value="g.firms",
               detail="'same as ' || LEFT(REPLACE(g.codes, r.uscc, ''), 200)", score="g.firms")
        + " FROM groups g JOIN rows r ON r.year = g.year AND "
        + " AND ".join(f"r.{k} IS NOT DISTINCT FROM g.{k}" for k in fields)
        + " JOIN q_firm f ON f.uscc = r.uscc"
    )


def reported_change(check: Check, ctx: Context) -> str:
    """The year's reported code differs from the year before and from the registry's record."""
    rep, reg = _field(check.params["reported"]), check.params["registry"]
    if reg not in ("county_code", "industry_code"):
        raise ValueError(f"unknown registry column {reg!r}")
    return (_row(field=f"'{rep}'", detail=f"y.p_{rep} || ' -> ' || y.{rep} || ' (registry ' || f.{reg} || ')'")
            + f" FROM q_seq y JOIN q_firm f ON f.uscc = y.uscc WHERE y.{rep} IS NOT NULL AND y.p_{rep} IS NOT NULL "
            f"AND y.{rep} <> y.p_{rep} AND y.{rep} <> f.{reg}")


def name_differs(check: Check, ctx: Context) -> str:
    """A year's return names the firm otherwise than the registry (one finding per firm, newest year)."""
    return (
        "WITH d AS (SELECT y.uscc, MAX(y.year) AS year, string_agg(DISTINCT y.reported_name, '; ') AS names "
        "FROM enterprise_year y JOIN q_firm f ON f.uscc = y.uscc "
        "WHERE y.reported_name IS NOT NULL AND y.reported_name <> f.name GROUP BY y.uscc) "
        + _row(uscc="d.uscc", year="d.year", field="'name'", detail="f.name || ' / ' || d.names")
        + " FROM d JOIN q_firm f ON f.uscc = d.uscc"
    )


def two_counties_submissions(check: Check, ctx: Context) -> str:
    """A firm on the member lists of clusters (applications) of two or more counties."""
    return (
        "WITH d AS (SELECT m.uscc, COUNT(DISTINCT c.county_code) AS counties, "
        "string_agg(DISTINCT c.county_code, ' ') AS codes FROM cluster_member m "
        "JOIN cluster c ON c.id = m.cluster_id GROUP BY m.uscc HAVING COUNT(DISTINCT c.county_code) > 1) "
        + _row(uscc="d.uscc", year="NULL", field="'membership'", value="d.counties", detail="d.codes",
               score="d.counties")
        + " FROM d JOIN q_firm f ON f.uscc = d.uscc"
    )


def member_of_two_clusters(check: Check, ctx: Context) -> str:
    """A firm counted as a member of two or more clusters (one finding per membership)."""
    return (
        "WITH d AS (SELECT uscc FROM cluster_member GROUP BY uscc HAVING COUNT(*) > 1), "
        "l AS (SELECT m.uscc, string_agg(c.code, ' ' ORDER BY c.code) AS codes, COUNT(*) AS clusters "
        "FROM cluster_member m JOIN d ON d.uscc = m.uscc JOIN cluster c ON c.id = m.cluster_id GROUP BY m.uscc) "
        + _row(uscc="m.uscc", year="NULL", field="'membership'", value="l.clusters", detail="l.codes",
               score="l.clusters", cluster="m.cluster_id")
        + " FROM cluster_member m JOIN l ON l.uscc = m.uscc JOIN q_firm f ON f.uscc = m.uscc"
    )


# Spaces, brackets of both widths and middle dots do not make two platforms different.
NORMALISED_NAME = "LOWER(regexp_replace(name, '[\\s()（）\\[\\]【】·・]', '', 'g'))"


def duplicate_platforms(check: Check, ctx: Context) -> str:
    """Two or more platforms with the same normalised name and level."""
    return (
        f"WITH p AS (SELECT *, {NORMALISED_NAME} AS norm FROM platform), "
        "d AS (SELECT norm, level, COUNT(*) AS n, string_agg(CAST(id AS VARCHAR), ' ' ORDER BY id) AS ids "
        "FROM p GROUP BY norm, level HAVING COUNT(*) > 1) "
        + _row(uscc="p.host_uscc", county="p.county_code", year="p.year", field="'platform'", value="d.n",
               detail="p.name || ' (' || p.level || '; ids ' || d.ids || ')'", score="d.n",
               cluster="p.cluster_id", platform="p.id")
        + " FROM p JOIN d ON d.norm = p.norm AND d.level = p.level"
    )


PEER_MEASURES = {
    # measure -> SQL over q_seq y (NULL when the measure is undefined for the row)
    "rd_intensity": "rd_spending / NULLIF(revenue, 0)",
    "output_per_employee": "output / NULLIF(employees, 0)",
    "revenue_growth": "revenue / NULLIF(p_revenue, 0) - 1",
}


def peer_outlier(check: Check, ctx: Context) -> str:
    """Robust z-scores (median, MAD) within industry division x size class in the peer year."""
    if ctx.peer_year is None:
        return _none()
    measures = check.params["measures"]
    for m in measures:
        if m not in PEER_MEASURES:
            raise ValueError(f"unknown peer measure {m!r} (known: {', '.join(PEER_MEASURES)})")
    z, n = _num(check.params["z"]), int(check.params["min_peers"])
    base = (f"SELECT y.*, f.industry_code, f.section FROM q_seq y JOIN q_firm f ON f.uscc = y.uscc "
            f"WHERE y.year = {int(ctx.peer_year)}")
    values = " UNION ALL ".join(
        f"SELECT uscc, '{m}' AS measure, {PEER_MEASURES[m]} AS x, LEFT(industry_code, 2) AS division, "
        f"{ctx.size_case} AS size FROM b"
        for m in measures
    )
    return (
        f"WITH b AS ({base}), v AS (SELECT * FROM ({values}) WHERE x IS NOT NULL AND size IS NOT NULL AND isfinite(x)), "
        "m AS (SELECT measure, division, size, MEDIAN(x) AS med, COUNT(*) AS n FROM v GROUP BY ALL), "
        "a AS (SELECT v.measure, v.division, v.size, MEDIAN(ABS(v.x - m.med)) AS mad FROM v "
        "JOIN m USING (measure, division, size) GROUP BY ALL), "
        "s AS (SELECT v.*, 0.6745 * (v.x - m.med) / a.mad AS z, m.med, m.n FROM v JOIN m USING (measure, division, size) "
        f"JOIN a USING (measure, division, size) WHERE a.mad > 0 AND m.n >= {n}) "
        + _row(uscc="s.uscc", year=str(int(ctx.peer_year)), field="s.measure", value="s.x",
               detail="'median ' || CAST(ROUND(s.med, 4) AS VARCHAR) || ' of ' || CAST(s.n AS VARCHAR) "
                      "|| ' peers (' || s.division || ', ' || s.size || ')'",
               score="s.z")
        + f" FROM s JOIN q_firm f ON f.uscc = s.uscc WHERE ABS(s.z) > {z} "
        # the firms furthest from their peers: at most `furthest` per measure and peer group
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY s.measure, s.division, s.size ORDER BY ABS(s.z) DESC, s.uscc) "
        f"<= {int(check.params['furthest'])}"
    )


def declared_differs(check: Check, ctx: Context) -> str:
    """Filled in by smecluster.quality.declared from the verdicts (no registry SQL of its own)."""
    return _none()


def benford(check: Check, ctx: Context) -> str:
    """Per county and year: the first-digit test of the submission's money figures (chi-square, MAD)."""
    p = check.params
    fields = [_field(f, FIGURES) for f in p["fields"]]
    lo = _num(p["min_value"])
    if float(p["min_value"]) < 1:
        raise ValueError("benford: min_value must be at least 1 (the first digit is read from the integer part)")
    # for x >= 1 the first significant digit is the first digit of its integer part: exact, no log10 rounding
    digits = " UNION ALL ".join(
        f"SELECT COALESCE(y.reported_county, f.county_code) AS county_code, y.year, "
        f"CAST(LEFT(CAST(CAST(FLOOR(y.{f}) AS BIGINT) AS VARCHAR), 1) AS INTEGER) AS d "
        f"FROM enterprise_year y JOIN q_firm f ON f.uscc = y.uscc WHERE y.{f} >= {lo}"
        for f in fields
    )
    return (
        f"WITH d AS ({digits}), "
        "c AS (SELECT county_code, year, d, COUNT(*) AS k FROM d GROUP BY ALL), "
        "t AS (SELECT county_code, year, SUM(k) AS n FROM c GROUP BY ALL), "
        "e AS (SELECT t.county_code, t.year, t.n, g.d, LOG10(1 + 1.0 / g.d) AS p, COALESCE(c.k, 0) AS k "
        "FROM t CROSS JOIN range(1, 10) g(d) LEFT JOIN c ON c.county_code = t.county_code AND c.year = t.year "
        "AND c.d = g.d), "
        "s AS (SELECT county_code, year, MAX(n) AS n, SUM(POWER(k - n * p, 2) / (n * p)) AS chi2, "
        f"AVG(ABS(k / n - p)) AS mad FROM e GROUP BY ALL HAVING MAX(n) >= {int(p['min_count'])}) "
        + _row(uscc="NULL", county="s.county_code", year="s.year", field="'first_digit'", value="s.mad",
               detail="'n ' || CAST(s.n AS VARCHAR) || ', chi2 ' || CAST(ROUND(s.chi2, 2) AS VARCHAR)",
               score="s.chi2")
        + " FROM s"
    )


BUILDERS: dict[str, Callable[[Check, Context], str]] = {
    "column_above": column_above,
    "revenue_without_employees": revenue_without_employees,
    "main_revenue_above_revenue": main_revenue_above_revenue,
    "growth_beyond_bound": growth_beyond_bound,
    "fall_to_zero_and_back": fall_to_zero_and_back,
    "magnitude_jump_and_return": magnitude_jump_and_return,
    "identical_across_years": identical_across_years,
    "identical_across_firms": identical_across_firms,
    "reported_change": reported_change,
    "name_differs": name_differs,
    "two_counties_submissions": two_counties_submissions,
    "member_of_two_clusters": member_of_two_clusters,
    "duplicate_platforms": duplicate_platforms,
    "peer_outlier": peer_outlier,
    "declared_differs": declared_differs,
    "benford": benford,
}


def band(mad: float | None, bands: list[dict]) -> dict | None:
    """Nigrini's conformity band of a first-digit MAD (the first whose `upto` is above it)."""
    if mad is None:
        return None
    for b in bands:
        if b["upto"] is None or mad <= b["upto"]:
            return b
    return bands[-1]
