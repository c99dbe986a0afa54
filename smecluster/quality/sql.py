"""Each kind of data-quality check as one whole-column SQL query (DuckDB; portable enough for Spark).

A builder takes the check and the run's context and returns a SELECT giving the finding columns
`uscc, county_code, year, field, value, detail, score, cluster_id, platform_id` for every doubtful
figure at once. The views it reads are set up by smecluster.quality.run:
- `q_firm`: enterprise with its section (uscc, name, county_code, industry_code, section);
- `q_cand`: the yearly rows some row check may flag, each with the previous and next year's figures
  (`p_<field>`, `n_<field>`, NULL unless that year is present: consecutive years only) and the firm's
  registry columns (name, county_code, industry_code);
- `enterprise_year`, `enterprise_profile`, `platform`, `cluster`, `cluster_member`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from smecluster.quality.catalogue import Check

FIGURES = ("revenue", "output", "rd_spending", "employees", "rd_staff", "total_assets", "total_liabilities")
# Columns a builder may name (the YAML is data: names are checked before they reach the SQL).
SEQ_FIELDS = (*FIGURES, "reported_county", "reported_industry")


@dataclass(frozen=True)
class Context:
    """What a run fixes for every check: the year peers are compared in, the size-class CASE."""

    peer_year: int | None
    size_case: str
    peer_rows: bool = False  # `q_peer` holds the peer year's rows with p_revenue and the firm's columns
    # check id -> the table the sweep made for it (smecluster.quality.sweep), read instead of the registry's
    sources: dict[str, str] = field(default_factory=dict)


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


# Checks of one firm's yearly row and its neighbouring years: a condition over `q_cand y` (each yearly
# row with `p_`/`n_` figures of the previous/next consecutive year and the firm's registry columns).
# smecluster.quality.run keeps as candidates only the rows meeting any of them, in one windowed pass.


def _column_above(check: Check) -> str:
    p = check.params
    f, b, r = _field(p["field"], FIGURES), _field(p["bound"], FIGURES), _num(p.get("ratio", 1.0))
    return f"y.{f} > {r} * y.{b}"


def column_above(check: Check, ctx: Context) -> str:
    """`field` above `ratio` x `bound` in the same year (e.g. R&D spending above revenue)."""
    f, b = _field(check.params["field"], FIGURES), _field(check.params["bound"], FIGURES)
    return (_row(county="y.county_code", field=f"'{f}'", value=f"y.{f}", detail=f"'{b} ' || {_text(f'y.{b}')}",
                 score=f"y.{f} / NULLIF(y.{b}, 0)")
            + f" FROM q_cand y WHERE {_column_above(check)}")


def _revenue_without_employees(check: Check) -> str:
    return f"y.employees = 0 AND y.revenue > {_num(check.params.get('min_revenue', 0))}"


def revenue_without_employees(check: Check, ctx: Context) -> str:
    """Revenue above a floor while persons employed is zero."""
    return (_row(county="y.county_code", field="'employees'", value="y.employees",
                 detail="'revenue ' || CAST(y.revenue AS VARCHAR)", score="y.revenue")
            + f" FROM q_cand y WHERE {_revenue_without_employees(check)}")


def main_revenue_above_revenue(check: Check, ctx: Context) -> str:
    """Main-business revenue (the tier profile's) above the year's total revenue."""
    r = _num(check.params.get("ratio", 1.0))
    # the sweep's table holds the profile rows with the year's revenue beside them (a superset is fine)
    rows = (f"{ctx.sources[check.id]} y" if check.id in ctx.sources else
            "enterprise_profile p JOIN enterprise_year y ON y.uscc = p.uscc AND y.year = p.year")
    main = "y.main_revenue" if check.id in ctx.sources else "p.main_revenue"
    return (
        f"WITH d AS (SELECT y.uscc, y.year, {main} AS main_revenue, y.revenue FROM {rows} "
        f"WHERE {main} > {r} * y.revenue) "
        + _row(uscc="d.uscc", year="d.year", field="'main_revenue'", value="d.main_revenue",
               detail="'revenue ' || CAST(d.revenue AS VARCHAR)", score="d.main_revenue / NULLIF(d.revenue, 0)")
        + " FROM d JOIN q_firm f ON f.uscc = d.uscc"
    )


def _fields(check: Check) -> list[str]:
    return [_field(name, FIGURES) for name in check.params["fields"]]


def _per_field(check: Check, build: Callable[[str], str]) -> str:
    return " UNION ALL ".join(build(f) for f in _fields(check))


def _growth(check: Check, f: str) -> str:
    g, floor = _num(check.params["growth"]), _num(check.params.get("min_previous", 0))
    return f"y.p_{f} >= {floor} AND y.p_{f} > 0 AND y.{f} > (1 + {g}) * y.p_{f}"


def growth_beyond_bound(check: Check, ctx: Context) -> str:
    """Growth on the previous year above the bound (1 + growth times; never a division, so exact)."""
    return _per_field(check, lambda f: (
        _row(county="y.county_code", field=f"'{f}'", value=f"y.{f}",
             detail=f"'previous ' || CAST(y.p_{f} AS VARCHAR)", score=f"y.{f} / y.p_{f} - 1")
        + f" FROM q_cand y WHERE {_growth(check, f)}"))


def _fall(check: Check, f: str) -> str:
    return f"y.{f} = 0 AND y.p_{f} > 0 AND y.n_{f} > 0"


def fall_to_zero_and_back(check: Check, ctx: Context) -> str:
    """Positive, zero for one year, positive again (consecutive years)."""
    return _per_field(check, lambda f: (
        _row(county="y.county_code", field=f"'{f}'", value=f"y.{f}",
             detail=f"CAST(y.p_{f} AS VARCHAR) || ' -> 0 -> ' || CAST(y.n_{f} AS VARCHAR)", score=f"y.p_{f}")
        + f" FROM q_cand y WHERE {_fall(check, f)}"))


def _jump(check: Check, f: str) -> str:
    k = _num(check.params["factor"])
    return (f"y.p_{f} > 0 AND y.n_{f} > 0 AND y.{f} > 0 "
            f"AND ((y.{f} >= {k} * y.p_{f} AND y.{f} >= {k} * y.n_{f}) "
            f"OR (y.{f} * {k} <= y.p_{f} AND y.{f} * {k} <= y.n_{f}))")


def magnitude_jump_and_return(check: Check, ctx: Context) -> str:
    """One year at least `factor` times above (or below) both neighbours: a slip of units or digits."""
    return _per_field(check, lambda f: (
        _row(county="y.county_code", field=f"'{f}'", value=f"y.{f}",
             detail=f"CAST(y.p_{f} AS VARCHAR) || ' -> ' || CAST(y.{f} AS VARCHAR) || ' -> ' "
                    f"|| CAST(y.n_{f} AS VARCHAR)",
             score=f"GREATEST(y.{f} / y.p_{f}, y.p_{f} / y.{f})")
        + f" FROM q_cand y WHERE {_jump(check, f)}"))


def _same_count(fields: list[str], left: str, right: str) -> str:
    # a figure counts as copied when both are present, equal and not zero (a dormant firm's zeros are no copy)
    return " + ".join(f"CASE WHEN {left}{f} = {right}{f} AND {left}{f} <> 0 THEN 1 ELSE 0 END" for f in fields)


def _identical_years(check: Check) -> str:
    return f"({_same_count(_fields(check), 'y.', 'y.p_')}) >= {int(check.params['min_fields'])}"


def identical_across_years(check: Check, ctx: Context) -> str:
    """At least `min_fields` figures equal, to the last digit, to the year before."""
    same = _same_count(_fields(check), "y.", "y.p_")
    return (_row(county="y.county_code", field="'row'", value=f"({same})",
                 detail="'same as ' || CAST(y.year - 1 AS VARCHAR)", score=f"({same})")
            + f" FROM q_cand y WHERE {_identical_years(check)}")


def identical_across_firms(check: Check, ctx: Context) -> str:
    """Two or more firms with the same figures in one year (at least `min_fields` of them present, non-zero).

    A hash of the figures finds the few candidate groups in one aggregation; the figures themselves
    then decide (a hash collision never makes a finding)."""
    fields = _fields(check)
    n = int(check.params["min_fields"])
    present = " + ".join(f"CASE WHEN {f} IS NOT NULL AND {f} <> 0 THEN 1 ELSE 0 END" for f in fields)
    keys = ", ".join(fields)
    return (
        f"WITH rows AS (SELECT uscc, year, {keys}, hash({keys}) AS h "
        f"FROM {ctx.sources.get(check.id, 'enterprise_year')} WHERE ({present}) >= {n}), "
        "dup AS (SELECT year, h FROM rows GROUP BY year, h HAVING COUNT(*) > 1), "
        "cand AS (SELECT r.* FROM rows r JOIN dup d ON d.year = r.year AND d.h = r.h), "
        f"groups AS (SELECT year, {keys}, COUNT(*) AS firms, string_agg(uscc, ' ' ORDER BY uscc) AS codes "
        f"FROM cand GROUP BY year, {keys} HAVING COUNT(*) > 1) "
        + _row(uscc="r.uscc", year="r.year", field="'row'", value="g.firms",
               detail="'same as ' || LEFT(REPLACE(g.codes, r.uscc, ''), 200)", score="g.firms")
        + " FROM groups g JOIN cand r ON r.year = g.year AND "
        + " AND ".join(f"r.{k} IS NOT DISTINCT FROM g.{k}" for k in fields)
        + " JOIN q_firm f ON f.uscc = r.uscc"
    )


def _reported(check: Check) -> tuple[str, str]:
    rep, reg = _field(check.params["reported"]), check.params["registry"]
    if reg not in ("county_code", "industry_code"):
        raise ValueError(f"unknown registry column {reg!r}")
    return rep, reg


def _change(check: Check) -> str:
    rep, reg = _reported(check)
    return f"y.{rep} IS NOT NULL AND y.p_{rep} IS NOT NULL AND y.{rep} <> y.p_{rep} AND y.{rep} <> y.{reg}"


def reported_change(check: Check, ctx: Context) -> str:
    """The year's reported code differs from the year before and from the registry's record."""
    rep, reg = _reported(check)
    return (_row(county="y.county_code", field=f"'{rep}'",
                 detail=f"y.p_{rep} || ' -> ' || y.{rep} || ' (registry ' || y.{reg} || ')'")
            + f" FROM q_cand y WHERE {_change(check)}")


def candidate_condition(check: Check) -> str | None:
    """The condition a yearly row meets when this check may flag it (None: the check reads no `q_cand`)."""
    if check.kind == "column_above":
        return _column_above(check)
    if check.kind == "revenue_without_employees":
        return _revenue_without_employees(check)
    if check.kind == "identical_across_years":
        return _identical_years(check)
    if check.kind == "reported_change":  # the registry's side is compared once the firm is joined
        rep, _ = _reported(check)
        return f"y.{rep} IS NOT NULL AND y.p_{rep} IS NOT NULL AND y.{rep} <> y.p_{rep}"
    per = {"growth_beyond_bound": _growth, "fall_to_zero_and_back": _fall, "magnitude_jump_and_return": _jump}
    if check.kind in per:
        return " OR ".join(f"({per[check.kind](check, f)})" for f in _fields(check))
    return None


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
    """A firm counted as a member of two or more clusters (one finding per firm, naming the clusters)."""
    return (
        "WITH d AS (SELECT m.uscc, COUNT(*) AS clusters, string_agg(c.code, ' ' ORDER BY c.code) AS codes "
        "FROM cluster_member m JOIN cluster c ON c.id = m.cluster_id GROUP BY m.uscc HAVING COUNT(*) > 1) "
        + _row(uscc="d.uscc", year="NULL", field="'membership'", value="d.clusters", detail="d.codes",
               score="d.clusters")
        + " FROM d JOIN q_firm f ON f.uscc = d.uscc"
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
    # measure -> SQL over the peer year's rows (NULL when the measure is undefined for the row)
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
    z, n, y = _num(check.params["z"]), int(check.params["min_peers"]), int(ctx.peer_year)
    base = (f"SELECT y.uscc, y.revenue, y.output, y.rd_spending, y.employees, y.total_assets, p.revenue AS p_revenue, "
            f"f.industry_code, f.section FROM enterprise_year y JOIN q_firm f ON f.uscc = y.uscc "
            f"LEFT JOIN (SELECT uscc, revenue FROM enterprise_year WHERE year = {y - 1}) p ON p.uscc = y.uscc "
            f"WHERE y.year = {y}")
    firm = " JOIN q_firm f ON f.uscc = s.uscc "
    if ctx.peer_rows:  # the peer year's rows with the year before's revenue and the firm's columns (the sweep)
        base = ("SELECT y.uscc, y.revenue, y.output, y.rd_spending, y.employees, y.total_assets, y.p_revenue, "
                "y.industry_code, y.section, y.county_code FROM q_peer y")
        firm = " "
    # One row per firm with every measure side by side (a measure NULL where it is undefined or not
    # finite): medians, counts and MADs per peer group are one aggregation each over these rows, and only
    # the few firms beyond z are unpivoted. A NULL division never joins its group (as before, when the
    # measures were unpivoted first), so those rows are left out at once.
    measure = ", ".join(f"CASE WHEN isfinite({PEER_MEASURES[m]}) THEN {PEER_MEASURES[m]} END AS {m}"
                        for m in measures)
    wide = (f"SELECT * FROM (SELECT uscc, {'county_code, ' if ctx.peer_rows else ''}"
            f"LEFT(industry_code, 2) AS division, {ctx.size_case} AS size, {measure} FROM b) "
            "WHERE size IS NOT NULL AND division IS NOT NULL")
    med = ", ".join(f"MEDIAN({m}) AS med_{m}, COUNT({m}) AS n_{m}" for m in measures)
    mad = ", ".join(f"MEDIAN(ABS(w.{m} - m.med_{m})) AS mad_{m}" for m in measures)
    # a group is scored when its MAD is above 0 and it has min_peers firms with the measure
    zs = ", ".join(f"CASE WHEN g.mad_{m} > 0 AND g.n_{m} >= {n} THEN 0.6745 * (w.{m} - g.med_{m}) / g.mad_{m} END "
                   f"AS z_{m}" for m in measures)
    beyond = " OR ".join(f"ABS(z_{m}) > {z}" for m in measures)
    long = " UNION ALL ".join(
        f"SELECT uscc, {'county_code, ' if ctx.peer_rows else ''}division, size, '{m}' AS measure, {m} AS x, "
        f"z_{m} AS z, med_{m} AS med, n_{m} AS n FROM t WHERE ABS(z_{m}) > {z}" for m in measures)
    return (
        f"WITH b AS ({base}), w AS MATERIALIZED ({wide}), "
        f"m AS MATERIALIZED (SELECT division, size, {med} FROM w GROUP BY ALL), "
        f"g AS MATERIALIZED (SELECT m.*, {mad} FROM w JOIN m USING (division, size) GROUP BY ALL), "
        f"t AS MATERIALIZED (SELECT * FROM (SELECT w.*, g.* EXCLUDE (division, size), {zs} "
        f"FROM w JOIN g USING (division, size)) WHERE {beyond}), s AS ({long}) "
        + _row(uscc="s.uscc", year=str(y), field="s.measure", value="s.x",
               detail="'median ' || CAST(ROUND(s.med, 4) AS VARCHAR) || ' of ' || CAST(s.n AS VARCHAR) "
                      "|| ' peers (' || s.division || ', ' || s.size || ')'",
               score="s.z", county="s.county_code" if ctx.peer_rows else "f.county_code")
        + " FROM s" + firm
        # the firms furthest from their peers: at most `furthest` per measure and peer group
        + "QUALIFY ROW_NUMBER() OVER (PARTITION BY s.measure, s.division, s.size ORDER BY ABS(s.z) DESC, s.uscc) "
        f"<= {int(check.params['furthest'])}"
    )


def declared_differs(check: Check, ctx: Context) -> str:
    """Filled in by smecluster.quality.declared from the verdicts (no registry SQL of its own)."""
    return _none()


def benford(check: Check, ctx: Context) -> str:
    """Per county and year: the first-digit test of the submission's money figures (chi-square, MAD)."""
    p = check.params
    fields = _fields(check)
    if float(p["min_value"]) < 1:
        raise ValueError("benford: min_value must be at least 1 (the first digit is read from the integer part)")
    lo = _num(p["min_value"])
    # for x >= 1 the first significant digit is that of i = floor(x): i // 10^k with k from log10, put
    # right when log10's rounding is one off (d0 of 10 or more: k too small; 0: k too large). Exact.
    digit = ("CASE WHEN d0 >= 10 THEN d0 // 10 WHEN d0 = 0 THEN i // CAST(POW(10, k - 1) AS BIGINT) ELSE d0 END")
    counted = (f"WITH c AS (SELECT county_code, year, d, k FROM {ctx.sources[check.id]}), "
               if check.id in ctx.sources else
               "WITH b AS (SELECT COALESCE(y.reported_county, f.county_code) AS county_code, y.year, "
        f"{', '.join('y.' + x for x in fields)} "
        "FROM enterprise_year y JOIN enterprise f ON f.uscc = y.uscc), "
        f"u AS (UNPIVOT b ON {', '.join(fields)} INTO NAME field VALUE x), "
        f"i AS (SELECT county_code, year, CAST(FLOOR(x) AS BIGINT) AS i FROM u WHERE x >= {lo}), "
        "k AS (SELECT county_code, year, i, CAST(FLOOR(LOG10(i)) AS INTEGER) AS k FROM i), "
        "q AS (SELECT county_code, year, i, k, i // CAST(POW(10, k) AS BIGINT) AS d0 FROM k), "
        f"d AS (SELECT county_code, year, {digit} AS d FROM q), "
        "c AS (SELECT county_code, year, d, COUNT(*) AS k FROM d GROUP BY ALL), ")
    return (
        counted
        + "t AS (SELECT county_code, year, SUM(k) AS n FROM c GROUP BY ALL), "
        "e AS (SELECT t.county_code, t.year, t.n, g.d, LOG10(1 + 1.0 / g.d) AS p, COALESCE(c.k, 0) AS k "
        "FROM t CROSS JOIN range(1, 10) g(d) LEFT JOIN c ON c.county_code = t.county_code AND c.year = t.year "
        "AND c.d = g.d), "
        # summed in digit order: the same last bit on every run (a parallel SUM adds in any order)
        "s AS (SELECT county_code, year, MAX(n) AS n, list_sum(list(POWER(k - n * p, 2) / (n * p) ORDER BY d)) "
        "AS chi2, list_sum(list(ABS(k / n - p) ORDER BY d)) / COUNT(*) AS mad FROM e GROUP BY ALL "
        f"HAVING MAX(n) >= {int(p['min_count'])}) "
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
