"""What-if simulation: a baseline and a reformed pack evaluated in one pass over the same facts.

Nothing here writes: the registry is read, both packs are compiled into one query (analytics.
simulate_query), and the winners and losers are counted in SQL, on DuckDB (default) or on the engine
given (`sql`: analytics.engines, e.g. Spark; the same statements, translated). Verdicts, tiers and workflow
tables are never touched (tests/test_simulate.py compares them before and after).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import date

import polars as pl
import pyarrow as pa
from sqlalchemy import Engine

from smecluster.analytics.engines import DuckDBEngine
from smecluster.analytics.engines import Engine as SqlEngine
from smecluster.analytics.simulate_query import compile_cluster_pair, compile_tier_pairs, outcome_col
from smecluster.analytics.snapshot import Snapshot
from smecluster.messages import N_, UserError
from smecluster.policy.diff import diff_packs
from smecluster.policy.pack import Pack, PackError, load_pack
from smecluster.policy.reform import Reform, ReformError, apply_reform, reform_from_sets
from smecluster.policy.tiers import tier_label
from smecluster.policy.validity import reformed_periods

# id(snapshot) -> {(year, columns): indicator table}: kept while the snapshot lives (decision 1201)
_INDICATORS: dict[int, dict[tuple, pl.DataFrame]] = {}
CLUSTER_OUTCOMES = {0: "not_recognised", 1: "insufficient_data", 2: "recognised", 3: "recognised"}
QUALIFIES = 2  # a tier outcome code >= 2 qualifies (pending review included), as in services.tiers


@dataclass
class Scenario:
    """What is compared: a baseline pack and a reformed (or other) pack of the same kind."""

    base: Pack
    reformed: Pack
    label: str  # the reform's id and title, or "A vs B"
    changes: list[str] = field(default_factory=list)

    def diff(self) -> dict:
        """The criteria the scenario changes (policy.diff)."""
        return diff_packs(self.base, self.reformed)


def scenario_from_reform(reform: Reform, where: str = "reform") -> Scenario:
    """The base pack of a reform and the reformed pack."""
    try:
        base = load_pack(reform.base)
    except PackError as exc:
        raise ReformError(f"{where}: base pack: {exc}") from None
    reformed = apply_reform(reform, base, where)
    label = reform.id + (f" — {reform.title}" if reform.title else "")
    return Scenario(base, reformed, label, [c.describe() for c in reform.changes])


def scenario_from_packs(a: str, b: str) -> Scenario:
    """Two shipped packs (or pack files) compared: a is the baseline, b the alternative."""
    pa_, pb = load_pack(a), load_pack(b)
    if pa_.kind != pb.kind or pa_.tier != pb.tier:
        raise ReformError(f"cannot compare {pa_.id} ({pa_.kind} {pa_.tier or ''}) with {pb.id} "
                          f"({pb.kind} {pb.tier or ''}): choose two packs of the same kind and tier")
    return Scenario(pa_, pb, f"{pa_.id} vs {pb.id}")


# ---------------------------------------------------------------- clusters


@dataclass
class ClusterSimulation:
    """Per cluster the baseline and reformed outcome, the criteria whose status changed, and counts."""

    scenario: Scenario
    year: int
    clusters: pl.DataFrame  # cluster_id, code, name, county_code, city_code, city_name, baseline, reformed, ...
    by_city: pl.DataFrame  # city_code, city_name, clusters, recognised_baseline, recognised_reformed, gained, lost

    def to_dict(self) -> dict:
        """JSON-ready result."""
        return {"scenario": self.scenario.label, "base": self.scenario.base.id,
                "reformed_version": self.scenario.reformed.version, "changes": self.scenario.changes,
                "year": self.year, "clusters": self.clusters.to_dicts(), "by_city": self.by_city.to_dicts(),
                "gained": int(self.clusters["gained"].sum()), "lost": int(self.clusters["lost"].sum())}


def simulate_cluster_snapshot(snapshot: Snapshot, scenario: Scenario, year: int,
                              sql: SqlEngine | None = None) -> ClusterSimulation:
    """Both packs over the clusters of a snapshot: indicators computed once, statuses in one query
    (on `sql` when given: indicators and statuses computed afresh there, nothing kept)."""
    from smecluster.analytics.cluster_indicators import compute_cluster_indicators
    from smecluster.policy.compile import required_columns
    from smecluster.policy.evaluate import apply_declared

    base, reformed = scenario.base, scenario.reformed
    if base.kind != "cluster_recognition" or reformed.kind != "cluster_recognition":
        raise ReformError(f"{base.id} is a {base.kind} pack: simulate clusters needs a cluster recognition pack")
    needed = required_columns(base.criteria) | required_columns(reformed.criteria)
    # The indicator table depends on the facts and the columns only, never on thresholds: kept on the
    # snapshot, so the next reform of the same session reuses it (decision 1201).
    if sql is not None:
        table = compute_cluster_indicators(snapshot, year, needed, sql)
    else:
        cache = _INDICATORS.setdefault(id(snapshot), {})
        if not cache:  # forget the tables when the snapshot goes
            weakref.finalize(snapshot, _INDICATORS.pop, id(snapshot), None)
        key = (year, tuple(sorted(needed)))
        table = cache.get(key)
        if table is None:
            table = cache[key] = compute_cluster_indicators(snapshot, year, needed)
    info = snapshot.frames["cluster"].rename({"id": "cluster_id"})
    order = table.select("cluster_id").join(info, on="cluster_id", how="left", maintain_order="left")
    # the application's declared figures fill what the registry lacks, as in a real evaluation
    filled, _ = apply_declared(table, order["declared"], base)
    filled, _ = apply_declared(filled, order["declared"], reformed)
    own = sql is None
    engine = DuckDBEngine() if own else sql
    try:
        engine.register("sim_indicators", filled)
        codes = pl.from_arrow(engine.arrow(compile_cluster_pair(base, reformed, source="sim_indicators")))
        # in the indicator table's order (an engine may return the rows in any order)
        codes = table.select("cluster_id").join(codes, on="cluster_id", how="left", maintain_order="left")
    finally:
        if own:
            engine.close()
    ids = list(dict.fromkeys([c.id for c in base.all_criteria()] + [c.id for c in reformed.all_criteria()]))

    def differs(cid: str) -> pl.Expr:
        a, b = f"a__{cid}", f"b__{cid}"
        if a in codes.columns and b in codes.columns:
            return pl.when(pl.col(a) != pl.col(b)).then(pl.lit(cid))
        return pl.lit(cid)  # added or removed: its status changed from none, or to none

    regions = snapshot.frames["region"]
    counties = regions.select(pl.col("code").alias("county_code"), pl.col("name").alias("county_name"),
                              pl.coalesce("parent_code", "code").alias("city_code"))
    cities = regions.select(pl.col("code").alias("city_code"), pl.col("name").alias("city_name"))
    outcome = lambda col: pl.col(col).cast(pl.Int64).replace_strict(CLUSTER_OUTCOMES, return_dtype=pl.Utf8)  # noqa: E731
    frame = (
        codes.select(
            "cluster_id",
            outcome("a__outcome").alias("baseline"), outcome("b__outcome").alias("reformed"),
            pl.concat_list([differs(c) for c in ids]).list.drop_nulls().list.join(", ").alias("criteria_changed"),
        )
        .join(order.select("cluster_id", "code", "name", "county_code"), on="cluster_id", how="left",
              maintain_order="left")
        .join(counties, on="county_code", how="left", maintain_order="left")
        .join(cities, on="city_code", how="left", maintain_order="left")
        .with_columns(
            ((pl.col("baseline") != "recognised") & (pl.col("reformed") == "recognised")).alias("gained"),
            ((pl.col("baseline") == "recognised") & (pl.col("reformed") != "recognised")).alias("lost"),
        )
        .select("cluster_id", "code", "name", "county_code", "county_name", "city_code", "city_name",
                "baseline", "reformed", "gained", "lost", "criteria_changed")
    )
    return ClusterSimulation(scenario, year, frame, _by_city(frame))


def _by_city(frame: pl.DataFrame) -> pl.DataFrame:
    """Clusters, recognised before and after, gained and lost, per city."""
    return (
        frame.group_by("city_code", "city_name")
        .agg(pl.len().alias("clusters"),
             (pl.col("baseline") == "recognised").sum().alias("recognised_baseline"),
             (pl.col("reformed") == "recognised").sum().alias("recognised_reformed"),
             pl.col("gained").sum().alias("gained"), pl.col("lost").sum().alias("lost"))
        .sort("city_code")
    )


def simulate_clusters(engine: Engine, scenario: Scenario, year: int | None = None,
                      region: str | None = None, sql: SqlEngine | None = None) -> ClusterSimulation:
    """Both packs over the registry's clusters as of a year (default: the newest with data); `region`
    (a region code prefix: 3205, 320581) keeps that region's clusters only; `sql`: the engine the
    indicator and status SQL run on (default DuckDB)."""
    from smecluster.analytics.snapshot import load_snapshot
    from smecluster.services.clusters import latest_year

    year = year or latest_year(engine)
    if year is None:
        raise NoYearlyData()
    sim = simulate_cluster_snapshot(load_snapshot(engine, None, scope="clusters"), scenario, year, sql)
    if region:  # a city or county account sees its own clusters only, the city counts cut to them
        sim.clusters = sim.clusters.filter(pl.col("county_code").str.starts_with(region))
        sim.by_city = _by_city(sim.clusters)
    return sim


# ---------------------------------------------------------------- enterprises


@dataclass
class EnterpriseSimulation:
    """Per tier the firms that gain or lose it, counted by county and industry, and the targets' view."""

    scenario: Scenario
    year: int
    on: date
    tier: str
    summary: dict  # firms, qualifying baseline / reformed, gained, lost (+ among holders / non-holders)
    by_county: pl.DataFrame
    by_industry: pl.DataFrame
    firms: pl.DataFrame  # the firms whose verdict changes: uscc, county_code, industry_code, designated, change
    targets: list[dict] = field(default_factory=list)

    def to_dict(self, firms: int | None = None) -> dict:
        """JSON-ready result (the first `firms` changed firms, all if None)."""
        listed = self.firms if firms is None else self.firms.head(firms)
        return {"scenario": self.scenario.label, "base": self.scenario.base.id,
                "reformed": self.scenario.reformed.id, "reformed_version": self.scenario.reformed.version,
                "changes": self.scenario.changes, "tier": self.tier,
                "tier_label": tier_label(self.scenario.base, "zh"), "year": self.year, "on": self.on.isoformat(),
                "summary": self.summary, "by_county": self.by_county.to_dicts(),
                "by_industry": self.by_industry.to_dicts(), "firms": listed.to_dicts(), "targets": self.targets}


def _as_applied(pack: Pack, evaluation: str, on: date) -> Pack:
    """The pack as applied to one kind of evaluation (criteria of the other kind dropped); a pack that
    does not serve that kind is simulated as written."""
    try:
        return pack.for_evaluation(evaluation, on)
    except PackError:
        return pack


def simulate_tier_facts(facts: pa.Table | pl.DataFrame, scenario: Scenario, year: int, on: date,
                        evaluation: str = "new", region: str | None = None,
                        facts_reformed: pa.Table | pl.DataFrame | None = None) -> EnterpriseSimulation:
    """Both packs of one tier over an in-memory fact table: one compiled pass, then counts in DuckDB
    over the materialised outcome codes (the path benchmarks time). `region` (a code prefix) keeps the
    firms of that region only. `facts_reformed`: the facts under the reform's validity periods (a
    reform of `validity_years` changes which designations count), read by the reformed side only."""
    sql = DuckDBEngine()
    try:
        sql.register(SIM_FACTS, facts)
        if facts_reformed is not None:
            sql.register(SIM_FACTS_B, facts_reformed)
        return simulate_tier_views(sql, scenario, year, on, evaluation, region, facts_reformed is not None)
    finally:
        sql.close()


SIM_FACTS, SIM_FACTS_B = "sim_facts", "sim_facts_b"  # the fact relations a simulation reads on its engine


def simulate_tier_views(sql: SqlEngine, scenario: Scenario, year: int, on: date, evaluation: str = "new",
                        region: str | None = None, reformed_facts: bool = False) -> EnterpriseSimulation:
    """Both packs of one tier over the fact relation `sim_facts` on an SQL engine (and `sim_facts_b`,
    the facts under the reform's validity periods, for the reformed side when `reformed_facts`): the
    pair query, the firms' codes kept as `sim`, and the counts, all in SQL on that engine."""
    base, reformed = scenario.base, scenario.reformed
    if base.kind != "enterprise_tier" or not base.tier:
        raise ReformError(f"{base.id} is a {base.kind} pack: simulate enterprises needs an enterprise tier pack")
    t = base.tier
    pair = [(_as_applied(base, evaluation, on), _as_applied(reformed, evaluation, on))]
    query = compile_tier_pairs(pair, source=SIM_FACTS)
    a, b, held = (f'"{outcome_col("a", t)}"', f'"{outcome_col("b", t)}"', f'"designated_{t}"')
    if not reformed_facts:
        source = (f"SELECT uscc, county_code, industry_code, {held} AS held_a, {held} AS held_b, "
                  f"{a} AS a, {b} AS b FROM ({query}) AS s")
    else:  # the baseline side over the facts, the reformed side over the reformed facts, joined by firm
        query_b = compile_tier_pairs(pair, source=SIM_FACTS_B)
        source = f"""SELECT x.uscc, x.county_code, x.industry_code, x.{held} AS held_a, y.{held} AS held_b,
            x.{a} AS a, y.{b} AS b FROM ({query}) AS x JOIN ({query_b}) AS y ON x.uscc = y.uscc"""
    prefix = "'" + (region or "").replace("'", "''") + "%'"
    sql.materialise("sim", f"""SELECT uscc, county_code, industry_code,
        COALESCE(held_a, FALSE) AS designated, COALESCE(held_b, FALSE) AS designated_reformed,
        a >= {QUALIFIES} AS qa, b >= {QUALIFIES} AS qb
        FROM ({source}) AS s WHERE county_code LIKE {prefix}""")
    counts = """COUNT(*) AS firms, COUNT(*) FILTER (WHERE qa) AS qualifies_baseline,
        COUNT(*) FILTER (WHERE qb) AS qualifies_reformed, COUNT(*) FILTER (WHERE qb AND NOT qa) AS gained,
        COUNT(*) FILTER (WHERE qa AND NOT qb) AS lost,
        COUNT(*) FILTER (WHERE qb AND NOT qa AND NOT designated) AS gained_not_designated,
        COUNT(*) FILTER (WHERE qa AND NOT qb AND designated) AS lost_designated,
        COUNT(*) FILTER (WHERE designated) AS held_baseline,
        COUNT(*) FILTER (WHERE designated_reformed) AS held_reformed"""
    total = pl.from_arrow(sql.arrow(f"SELECT {counts} FROM sim")).to_dicts()[0]
    # every county and industry, the most moved first
    by = {key: pl.from_arrow(sql.arrow(f"SELECT {key}, {counts} FROM sim GROUP BY {key} "
                                       f"ORDER BY gained + lost DESC, {key}"))
          for key in ("county_code", "industry_code")}
    # A firm's change: its eligibility first; else whether its designation still counts on the date.
    firms = pl.from_arrow(sql.arrow("""SELECT uscc, county_code, industry_code, designated,
        CASE WHEN qb AND NOT qa THEN 'gains' WHEN qa AND NOT qb THEN 'loses'
             WHEN designated THEN 'expires' ELSE 'extends' END AS change
        FROM sim WHERE qa <> qb OR designated <> designated_reformed ORDER BY change, uscc"""))
    summary = {k: int(v) for k, v in total.items()}
    return EnterpriseSimulation(scenario, year, on, t, summary, by["county_code"], by["industry_code"], firms)


def target_effects(progress: dict, sim: EnterpriseSimulation) -> list[dict]:
    """Each target counting holders of the simulated tier, with and without the reform.

    The firms whose eligibility changes move the count: reformed = baseline + gained - lost within the
    target's scope (holders that lose eligibility leave the stock at their re-review; firms that gain
    it are new candidates), and the projection at the deadline moves by the same amount (decision 1203).
    A reform of the validity period moves it too: designations that no longer count on the date
    (`expires`) leave it, those that count longer (`extends`) stay in it (decision 1205).
    """
    out = []
    for t in progress["targets"]:
        if t["measure"] != f"designated:{sim.tier}":
            continue
        scope = t["scope"]
        inside = sim.firms.filter(pl.col("county_code").str.starts_with(scope))
        gained = int((inside["change"] == "gains").sum())
        lost = int((inside["change"] == "loses").sum())
        # A shorter (longer) validity period ends (keeps) designations on the date itself.
        expires = int((inside["change"] == "expires").sum())
        extends = int((inside["change"] == "extends").sum())
        delta = gained - lost - expires + extends
        at_deadline = t["projection"]["at_deadline"]
        out.append({
            "id": t["id"], "title": t["title"], "value": t["value"], "deadline": t["deadline"], "scope": scope,
            "current": t["current"], "current_reformed": t["current"] + delta, "gained": gained, "lost": lost,
            "lost_designated": int(((inside["change"] == "loses") & inside["designated"]).sum()),
            "expires": expires, "extends": extends,
            "projection": at_deadline, "projection_reformed": at_deadline + delta,
            "met": t["met"], "on_track": t["on_track"],
            "share_of_target": t["share_of_target"],
            "share_of_target_reformed": (t["current"] + delta) / t["value"] if t["value"] else None,
            "on_track_reformed": _meets(t["comparator"], at_deadline + delta, t["value"]),
        })
    return out


def _meets(comparator: str, value: float, target: float) -> bool:
    return {">": value > target, ">=": value >= target, "<": value < target, "<=": value <= target,
            "==": value == target}[comparator]


def simulate_enterprises(engine: Engine, scenario: Scenario, year: int | None = None, on: date | None = None,
                         county: str | None = None, evaluation: str = "new",
                         with_targets: bool = True, region: str | None = None,
                         sql: SqlEngine | None = None) -> EnterpriseSimulation:
    """Both packs of a tier over the registry's firms (of a county, or a region code prefix, if given),
    and the targets' view (within the region: its share of each target's change). `sql`: an engine
    (analytics.engines, e.g. Spark) the registry's tables are registered on and the fact, pair and
    count SQL run on; default DuckDB over the facts built in this process."""
    from smecluster.analytics.enterprise_facts import build_facts, fact_views, facts_sql, read_registry
    from smecluster.services.targets import target_progress
    from smecluster.services.tiers import default_on, latest_year, register_tables

    year = year or latest_year(engine)
    if year is None:
        raise NoYearlyData()
    on = on or default_on(year)
    periods = reformed_periods(scenario.base, scenario.reformed)
    if sql is not None:
        register_tables(sql, engine, None, year, county)
        fact_views(sql, year, county)
        sql.view(SIM_FACTS, facts_sql(year, on, ordered=False))
        if periods is not None:
            sql.view(SIM_FACTS_B, facts_sql(year, on, periods, ordered=False))
        sim = simulate_tier_views(sql, scenario, year, on, evaluation, region, periods is not None)
    else:
        frames = read_registry(engine, year, county)
        tables = (frames["enterprise"], frames["enterprise_year"], frames["enterprise_profile"],
                  frames["designation"])
        facts = build_facts(*tables, year, on, frames["industry"])
        facts_b = None if periods is None else build_facts(*tables, year, on, frames["industry"], periods=periods)
        sim = simulate_tier_facts(facts, scenario, year, on, evaluation, region, facts_b)
    if with_targets:
        try:
            sim.targets = target_effects(target_progress(engine, until=year), sim)
        except LookupError:
            sim.targets = []
    return sim


# ---------------------------------------------------------------- one call for the web page and API

SIMULATED_KINDS = ("cluster_recognition", "enterprise_tier")


def simulatable_packs() -> list[Pack]:
    """Shipped packs a reform can be simulated on: cluster recognition and enterprise tier packs."""
    from smecluster.policy.pack import packs_of_kind

    return [p for kind in SIMULATED_KINDS for p in packs_of_kind(kind)]


class NoYearlyData(UserError):
    """A simulation over a registry without yearly enterprise figures (a ValueError, as before)."""

    def __init__(self) -> None:
        super().__init__(N_("the registry has no yearly enterprise data: import or generate some first"))


def editable_thresholds(pack: Pack) -> list[dict]:
    """The numeric leaf tests of a pack, whose thresholds a form may change."""
    from smecluster.analytics.catalogue import catalogue

    names = catalogue()  # the indicator's name for a person (cluster indicators; tier ones keep their id)
    return [{"id": c.id, "title": c.title, "clause": c.clause, "indicator": c.indicator,
             "label_zh": names[c.indicator].label_zh if c.indicator in names else c.indicator,
             "label_en": names[c.indicator].label_en if c.indicator in names else c.indicator,
             "comparator": c.comparator, "threshold": c.threshold, "boundary_word": c.boundary_word}
            for c in pack.all_criteria()
            if c.indicator and c.comparator and not isinstance(c.threshold, bool) and c.assessed and not c.judgement]


def run_scenario(engine: Engine, pack_id: str, sets: list[str], region: str = "", year: int | None = None,
                 snapshot: Snapshot | None = None) -> dict:
    """Simulate `sets` on a shipped pack for a region (code prefix; '' for the province): JSON-ready.

    Cluster packs: per cluster and per city; tier packs: per county, per industry and per city (from the
    counties), the changed firms (first 200) and the targets. ReformError for a bad reform."""
    known = {p.id: p for p in simulatable_packs()}
    if pack_id not in known:
        raise ReformError(f"unknown pack {pack_id!r} for a simulation; choose one of {', '.join(known)}")
    scenario = scenario_from_reform(reform_from_sets(pack_id, sets))
    base = {"pack": pack_id, "kind": known[pack_id].kind, "changes": scenario.changes, "region": region,
            "diff": scenario.diff()["criteria"]}
    if known[pack_id].kind == "cluster_recognition":
        if snapshot is None:
            sim = simulate_clusters(engine, scenario, year, region or None)
        else:
            year = year or _latest(engine)
            sim = simulate_cluster_snapshot(snapshot, scenario, year)
            if region:
                sim.clusters = sim.clusters.filter(pl.col("county_code").str.starts_with(region))
                sim.by_city = _by_city(sim.clusters)
        out = sim.to_dict()
        out["by_city_chart"] = [{"name": r["city_name"] or r["city_code"], "gained": r["gained"], "lost": r["lost"]}
                                for r in out["by_city"]]
        out["by_county_map"] = county_map(sim.clusters)
        return {**base, **out}
    sim = simulate_enterprises(engine, scenario, year, region=region or None)
    by_city = (sim.by_county.with_columns(pl.col("county_code").str.slice(0, 4).alias("city"))
               .group_by("city").agg(pl.col("gained").sum(), pl.col("lost").sum()).sort("city"))
    out = sim.to_dict(firms=200)
    out["by_city_chart"] = [{"name": f"{r['city']}00", "gained": r["gained"], "lost": r["lost"]}
                            for r in by_city.to_dicts()]
    out["by_county_map"] = county_map(sim.by_county)
    return {**base, **out}


def county_map(frame: pl.DataFrame) -> list[dict]:
    """Gained, lost and net (gained - lost) per county code, from per-cluster rows (gained/lost flags) or
    per-county rows (gained/lost counts) already cut to the viewer's region: the what-if map's data."""
    return (
        frame.group_by("county_code")
        .agg(pl.col("gained").cast(pl.Int64).sum(), pl.col("lost").cast(pl.Int64).sum())
        .with_columns((pl.col("gained") - pl.col("lost")).alias("net"))
        .sort("county_code")
        .rename({"county_code": "code"})
        .to_dicts()
    )


def _latest(engine: Engine) -> int:
    from smecluster.services.clusters import latest_year

    year = latest_year(engine)
    if year is None:
        raise NoYearlyData()
    return year


def forget_indicators(snapshot: Snapshot) -> None:
    """Drop the indicator tables kept for a snapshot (the next simulation computes them again)."""
    _INDICATORS.pop(id(snapshot), None)
