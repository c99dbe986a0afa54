"""The same compiled SQL on DuckDB and on Spark SQL, and the Parquet registry (issue 14).

Parity: the demo's clusters under every shipped cluster pack and every firm under every shipped tier
pack, on both engines, give identical verdicts (statuses, outcomes, values to 1e-9, gaps). The packs
are walked, so a new criterion or indicator is covered without editing this file. Spark runs in local
mode (one session for the test run: conftest.spark_engine); the tests needing it are skipped without
Java or PySpark, unless SMECLUSTER_REQUIRE_SPARK=1 (CI), where they fail instead.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import polars as pl
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from smecluster.analytics.engines import DuckDBEngine, to_spark
from smecluster.analytics.enterprise_facts import fact_views, facts_sql
from smecluster.analytics.snapshot import load_snapshot
from smecluster.analytics.tier_query import compile_tiers
from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.policy.compile import required_columns
from smecluster.policy.pack import packs_of_kind
from smecluster.registry import parquet_layout as layout
from smecluster.registry.parquet_export import export_parquet
from smecluster.services.clusters import evaluate_clusters, latest_year, verdicts_from_indicators
from smecluster.services.tier_plans import KEYS, default_on
from smecluster.services.tiers import evaluate_enterprises, register_tables

TOLERANCE = 1e-9  # relative to the value (at least 1): sums in another order differ in the last bits


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo registry (SQLite) and its Parquet export."""
    from smecluster.services.demo import build_demo

    folder = tmp_path_factory.mktemp("engines")
    engine = open_database(f"sqlite:///{folder / 'demo.db'}")
    build_demo(engine, scale=0.02)
    export_parquet(engine, folder / "registry")
    return engine, folder / "registry"


# ---- comparing results ------------------------------------------------------------------------------
def same(a, b, where: str = "") -> list[str]:
    """Where two JSON-like values differ (numbers within TOLERANCE); empty when they agree."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in same(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in same(x, y, f"{where}[{i}]")]
    if isinstance(a, float) and isinstance(b, int | float) and not isinstance(b, bool):
        ok = (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))
        return [] if ok else [f"{where}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def same_tables(a: pa.Table, b: pa.Table, key: str = "uscc") -> list[str]:
    """Row-by-row differences of two result tables sorted by `key` (types compared by kind, not width)."""
    x, y = pl.from_arrow(a).sort(key), pl.from_arrow(b).sort(key)
    if x.columns != y.columns:
        return [f"columns differ: {sorted(set(x.columns) ^ set(y.columns))}"]
    out = []
    for col in x.columns:
        u, v = x[col], y[col]
        if (u.is_null() != v.is_null()).any():
            out.append(f"{col}: NULL in different rows")
        elif u.dtype.is_float() or v.dtype.is_float():
            f, g = u.cast(pl.Float64), v.cast(pl.Float64)
            scale = pl.max_horizontal(f.abs(), g.abs(), pl.lit(1.0, pl.Float64))
            worst = pl.select(((f - g).abs() / scale).max()).item()
            if worst is not None and worst > TOLERANCE:
                out.append(f"{col}: values differ by up to {worst}")
        elif u.dtype.is_integer() and v.dtype.is_integer():
            if not u.cast(pl.Int64).equals(v.cast(pl.Int64)):
                out.append(f"{col}: values differ")
        elif not u.equals(v):
            out.append(f"{col}: values differ")
    return out


def walk(criteria):
    for c in criteria:
        yield c
        yield from walk(c.children)


# ---- what the packs ask for -------------------------------------------------------------------------
def cluster_packs():
    """Every shipped cluster recognition pack."""
    return packs_of_kind("cluster_recognition")


def tier_rounds():
    """Every shipped tier pack, in rounds of one pack per tier (the i-th pack of each tier, or its
    newest when it has fewer): each round is one tier query, and every pack is in some round."""
    by_tier = defaultdict(list)
    for pack in packs_of_kind("enterprise_tier"):
        by_tier[pack.tier].append(pack)
    order = ["innovative_sme", "srdi_sme", "little_giant", "single_champion"]
    tiers = sorted(by_tier, key=lambda t: order.index(t) if t in order else len(order))
    rounds = max(len(v) for v in by_tier.values())
    return [[by_tier[t][min(i, len(by_tier[t]) - 1)] for t in tiers] for i in range(rounds)]


def test_every_file_starting_spark_is_given_to_one_worker():
    """The files asking for conftest's `spark_engine` are exactly conftest.SPARK_FILES, the unit of work
    xdist hands to one worker (so that a test run starts one JVM)."""
    from pathlib import Path
    from types import SimpleNamespace

    from conftest import SPARK_FILES, pytest_xdist_make_scheduler

    root = Path(__file__).parent
    users = {f"tests/{p.relative_to(root).as_posix()}" for p in root.rglob("test_*.py")
             if "spark_engine" in p.read_text(encoding="utf-8")}
    assert users == set(SPARK_FILES)

    class Options:  # what xdist's scheduler reads of `make test`'s command line (-n 2 --dist loadfile)
        option = SimpleNamespace(loadscopereorder=True)

        def getoption(self, name, default=None):
            return {"dist": "loadfile"}.get(name, default)

        def getvalue(self, name):
            return {"tx": ["2*popen"]}[name]

    scheduler = pytest_xdist_make_scheduler(Options(), None)
    scopes = {scheduler._split_scope(f"{path}::test_x[sqlite]") for path in SPARK_FILES}
    assert len(scopes) == 1 and scheduler._split_scope("tests/test_uscc.py::test_x") == "tests/test_uscc.py"
    assert Options.option.loadscopereorder is False  # the queue keeps the collection's order (heaviest first)


def test_units_of_work_are_handed_out_heaviest_first():
    """The files with measured seconds exist, and a collection is queued heaviest unit first: a listed
    file by its seconds, the Spark files as one unit (their sum), another file by its number of tests,
    each file's tests in their order."""
    from pathlib import Path

    from conftest import FILE_SECONDS, SECONDS_PER_TEST, SPARK_FILES, heaviest_first, work_unit

    root = Path(__file__).parents[1]
    assert [f for f in FILE_SECONDS if not (root / f).is_file()] == []
    light, many = "tests/test_uscc.py", "tests/test_many.py"  # neither is listed
    assert light not in FILE_SECONDS and many not in FILE_SECONDS
    heavy = next(f for f, s in sorted(FILE_SECONDS.items(), key=lambda x: -x[1]) if f not in SPARK_FILES)
    many_tests = [f"{many}::test_{k}" for k in range(int(10 / SECONDS_PER_TEST))]
    collection = ([f"{light}::test_a", f"{light}::test_b"] + many_tests + [f"{SPARK_FILES[0]}::test_a"]
                  + [f"{heavy}::test_a", f"{heavy}::test_b"] + [f"{f}::test_a" for f in SPARK_FILES[1:]])
    ordered = heaviest_first(collection, work_unit)
    assert sorted(ordered) == sorted(collection)
    assert [work_unit(n) for n in ordered[:len(SPARK_FILES)]] == ["spark-session"] * len(SPARK_FILES)
    assert ordered[len(SPARK_FILES):len(SPARK_FILES) + 2] == [f"{heavy}::test_a", f"{heavy}::test_b"]
    assert ordered[len(SPARK_FILES) + 2:] == many_tests + [f"{light}::test_a", f"{light}::test_b"]


def test_rounds_cover_every_tier_pack():
    """The walk reaches every shipped tier pack (a new pack is evaluated without editing this test)."""
    walked = {p.id for r in tier_rounds() for p in r}
    assert walked == {p.id for p in packs_of_kind("enterprise_tier")}
    assert len(walked) >= 8 and len(cluster_packs()) >= 2


def cluster_results(engine, sql):
    """Verdicts of every cluster under every cluster pack, the indicators computed once on `sql`."""
    from smecluster.analytics.cluster_indicators import compute_cluster_indicators

    year = latest_year(engine)
    snapshot = load_snapshot(engine, None, scope="clusters")
    needed = set().union(*(required_columns(p.criteria) for p in cluster_packs()))
    table = compute_cluster_indicators(snapshot, year, needed, sql)
    detail = snapshot.extra.get("footprint_detail")
    return {p.id: [v.to_dict() for v in verdicts_from_indicators(
        table, snapshot.frames["cluster"], snapshot.frames["region"], p, year, detail, sql)]
        for p in cluster_packs()}


def with_facts(engine, sql):
    """`sql` with the demo's fact table materialised as `facts` (computed on it from the registry tables)."""
    year = register_tables(sql, engine, None, None)
    fact_views(sql, year)
    sql.materialise("facts", facts_sql(year, default_on(year)))
    return sql


@pytest.fixture(scope="module")
def spark_facts(demo, spark_engine):
    """The Spark engine holding the demo's facts (computed once for the tier tests)."""
    return with_facts(demo[0], spark_engine)


def tier_results(sql):
    """Every firm's tier row under every round of tier packs, over the facts materialised on `sql`."""
    return {tuple(p.id for p in packs): sql.arrow(compile_tiers(packs, keys=KEYS).sql) for packs in tier_rounds()}


# ---- parity ------------------------------------------------------------------------------------------
def test_clusters_same_on_duckdb_and_spark(demo, spark_engine):
    """Every cluster under every cluster pack: the same verdict on both engines, every criterion walked."""
    engine, _ = demo
    duck = cluster_results(engine, DuckDBEngine())
    spark = cluster_results(engine, spark_engine)
    for pack in cluster_packs():
        assert duck[pack.id], f"{pack.id}: no clusters evaluated"
        ids = {c.id for top in pack.criteria for c in top.walk()}
        for verdict in duck[pack.id]:
            seen = set()
            stack = list(verdict["criteria"])
            while stack:
                c = stack.pop()
                seen.add(c["id"])
                stack += c["children"]
            assert seen == ids, f"{pack.id}: criteria not in the verdict: {sorted(ids - seen)}"
        diffs = same(duck[pack.id], spark[pack.id], pack.id)
        assert not diffs, "\n".join(diffs[:20])
    outcomes = {v["outcome"] for vs in duck.values() for v in vs}
    assert {"recognised", "not_recognised"} <= outcomes  # the comparison saw both kinds of verdict


def test_tiers_same_on_duckdb_and_spark(demo, spark_facts):
    """Every firm under every tier pack (the facts, each pack's criteria, points, outcome, and the summary
    columns): the same rows on both engines."""
    engine, _ = demo
    duck = with_facts(engine, DuckDBEngine())
    facts = duck.arrow("SELECT * FROM facts")
    assert not same_tables(facts, spark_facts.arrow("SELECT * FROM facts"))
    duck, spark = tier_results(duck), tier_results(spark_facts)
    for packs in tier_rounds():
        key = tuple(p.id for p in packs)
        plan = compile_tiers(packs, keys=KEYS)
        for tp in plan.tiers:  # the walk: every criterion has a column, or goes to a reviewer
            for c in tp.pack.criteria:
                assert c.id in tp.status or c.id in tp.points or c.id in tp.review, f"{tp.pack.id}: {c.id}"
        table = duck[key]
        assert table.num_rows > 100
        outcome = pl.from_arrow(table)[plan.tiers[0].col("outcome")]
        assert outcome.n_unique() > 1  # not a trivial comparison
        diffs = same_tables(table, spark[key])
        assert not diffs, f"{key}: " + "; ".join(diffs[:20])


def test_a_wrong_translation_is_caught(demo, spark_facts, monkeypatch):
    """The comparison bites: Spark SQL that reads `>=` as `>` (one wrong translation rule) is caught."""
    import smecluster.analytics.engines as engines

    sql = compile_tiers(tier_rounds()[-1][:1], keys=KEYS).sql
    right = with_facts(demo[0], DuckDBEngine()).arrow(sql)
    monkeypatch.setattr(engines, "to_spark", lambda text: to_spark(text).replace(" >= ", " > "))
    assert same_tables(right, spark_facts.arrow(sql))


# ---- the Parquet registry ---------------------------------------------------------------------------
def test_export_layout(demo):
    """One folder per table, Hive partitions province (text) and year, the database's columns and types."""
    _, root = demo
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["format"] == "smecluster-parquet" and manifest["layout"] == 2
    assert manifest["registry_version"]["version"] >= 1
    assert manifest["tables"]["enterprise_year"] == {"partition_by": ["province", "year"]}
    assert manifest["tables"]["industry"] == {"partition_by": []}
    assert set(manifest["tables"]) == set(layout.TABLES)
    year_files = list((root / "enterprise_year").glob("province=32/year=*/part-0.parquet"))
    assert year_files, "enterprise_year/province=32/year=YYYY/part-0.parquet"
    assert (root / "industry" / "part-0.parquet").exists()
    import pyarrow.parquet as pq

    assert pq.read_schema(year_files[0]).names == layout.file_schema("enterprise_year").names
    reg = layout.open_registry(root)
    con = DuckDBEngine()
    con.register_registry(reg)
    for table in layout.TABLES:
        got = con.arrow(f'SELECT * FROM "{table}" LIMIT 0').schema
        assert got.names == ["firm"] * (table in layout.KEYED) + layout.table_schema(table).names, table
    # the firm key: one number per credit code, the same in every table, ordered as the credit codes
    firms = con.arrow("SELECT firm, uscc FROM enterprise ORDER BY uscc")
    assert firms.column("firm").to_pylist() == sorted(set(firms.column("firm").to_pylist()))
    for table in ("enterprise_year", "enterprise_profile", "designation"):
        bad = con.arrow(f"SELECT COUNT(*) AS n FROM {table} t JOIN enterprise e USING (uscc) WHERE t.firm <> e.firm")
        assert bad.column("n")[0].as_py() == 0, table
    # every row lies in its province's partition (the province of its enterprise's county)
    bad = con.arrow("SELECT COUNT(*) AS n FROM read_parquet('" + str(root) + "/enterprise_year/**/*.parquet', "
                    "hive_partitioning = true, hive_types = {'province': 'VARCHAR', 'year': 'INTEGER'}) y "
                    "JOIN enterprise e USING (uscc) WHERE LEFT(e.county_code, 2) <> y.province")
    assert bad.column("n")[0].as_py() == 0


def test_from_parquet_same_as_database(demo):
    """`--from DIR` on DuckDB: the same cluster verdicts and tier rows as from the database."""
    engine, root = demo
    reg = layout.open_registry(root)
    assert same([v.to_dict() for v in evaluate_clusters(engine)],
                [v.to_dict() for v in evaluate_clusters(None, source=reg, sql=DuckDBEngine())]) == []
    a = evaluate_enterprises(engine)
    b = evaluate_enterprises(None, source=reg, sql=DuckDBEngine())
    assert (a.year, a.on) == (b.year, b.on)
    assert not same_tables(a.table, b.table)


def test_layout_1_folder_still_read(demo, tmp_path):
    """A folder written before the firm key (layout 1: no `firm` column) is read, its firms joined by
    credit code, with the same tier rows."""
    import shutil

    import pyarrow.parquet as pq

    _, root = demo
    old = tmp_path / "old"
    shutil.copytree(root, old)
    for table in layout.KEYED:
        for f in (old / table).rglob("*.parquet"):
            pq.write_table(pq.read_table(f).drop_columns(["firm"]), f)
    manifest = json.loads((old / "manifest.json").read_text())
    (old / "manifest.json").write_text(json.dumps({**manifest, "layout": 1}))
    reg = layout.open_registry(old)
    assert reg.key == "uscc" and layout.open_registry(root).key == "firm"
    a = evaluate_enterprises(None, source=layout.open_registry(root), sql=DuckDBEngine())
    b = evaluate_enterprises(None, source=reg, sql=DuckDBEngine())
    assert a.table.column_names == b.table.column_names and "firm" not in a.table.column_names
    assert a.table.equals(b.table)


def test_from_parquet_on_spark(demo, spark_engine):
    """`--from DIR --engine spark` (the service as the CLI calls it): Spark reads the partitions itself and
    gives the database's tier rows. (Clusters from a folder are read by DuckDB and then computed on the
    engine chosen: the DuckDB test above and the cluster parity test cover that path.)"""
    engine, root = demo
    reg = layout.open_registry(root)
    a = evaluate_enterprises(engine)
    b = evaluate_enterprises(None, source=reg, sql=spark_engine)
    assert (a.year, a.on) == (b.year, b.on)
    assert not same_tables(a.table, b.table)


def test_bad_registry_folders(tmp_path, demo):
    """A missing folder, a missing or foreign manifest, a missing table folder: clear errors."""
    _, root = demo
    with pytest.raises(layout.ParquetLayoutError, match="no such folder"):
        layout.open_registry(tmp_path / "nowhere")
    with pytest.raises(layout.ParquetLayoutError, match="manifest.json: missing"):
        layout.open_registry(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "delta", "layout": 1}))
    with pytest.raises(layout.ParquetLayoutError, match="format is 'delta'"):
        layout.open_registry(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(layout.ParquetLayoutError, match="not readable JSON"):
        layout.open_registry(tmp_path)
    manifest = json.loads((root / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "layout": 3}))
    with pytest.raises(layout.ParquetLayoutError, match="layout 3, this version reads layouts 1, 2"):
        layout.open_registry(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(layout.ParquetLayoutError, match="missing folder of table 'region'"):
        layout.open_registry(tmp_path)
    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, " ".join(result.output.split())  # as one line (the console wraps it)

    code, text = cli("evaluate", "enterprises", "--from", str(tmp_path / "nowhere"))
    assert code == 1 and "no such folder" in text
    code, text = cli("evaluate", "cluster", "--all", "--from", str(tmp_path))
    assert code == 1 and "missing folder of table 'region'" in text
    code, text = cli("evaluate", "cluster", "--all", "--engine", "presto")
    assert code == 1 and "duckdb, spark" in text


def test_export_refuses_a_full_folder(demo, tmp_path):
    """Exporting into a folder holding files is refused (unless --force), naming the folder."""
    engine, _ = demo
    (tmp_path / "other.txt").write_text("x")
    with pytest.raises(layout.ParquetLayoutError, match="not an empty folder"):
        export_parquet(engine, tmp_path)


def test_cli_from_parquet(demo):
    """The CLI from a Parquet folder, no database: clusters as JSON, tiers as a table."""
    _, root = demo
    runner = CliRunner()
    out = runner.invoke(app, ["evaluate", "cluster", "--all", "--from", str(root), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert {v["outcome"] for v in json.loads(out.output)} >= {"recognised"}
    out = runner.invoke(app, ["evaluate", "enterprises", "--from", str(root), "--format", "json"])
    assert out.exit_code == 0, out.output


def test_duckdb_is_the_default_and_spark_is_lazy():
    """Without --engine spark nothing imports PySpark (a county server needs no Java)."""
    import subprocess
    import sys

    code = ("import sys; from smecluster.cli.main import app; from smecluster.services import tiers, clusters; "
            "from smecluster.analytics import engines; engines.open_engine('duckdb'); "
            "print('pyspark' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_duckdb_threads_and_memory_from_the_environment(monkeypatch):
    """SMECLUSTER_DUCKDB_THREADS and SMECLUSTER_DUCKDB_MEMORY cap a new DuckDB engine (a shared server,
    or the national benchmark showing how the time scales with cores); unset, DuckDB takes every core."""
    from smecluster.analytics.engines import open_engine

    monkeypatch.setenv("SMECLUSTER_DUCKDB_THREADS", "1")
    monkeypatch.setenv("SMECLUSTER_DUCKDB_MEMORY", "1GB")
    eng = open_engine("duckdb")
    try:
        assert eng.con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
        limit = eng.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert limit in ("953.6 MiB", "1.0 GB", "1000.0 MB")
    finally:
        eng.close()
    monkeypatch.delenv("SMECLUSTER_DUCKDB_THREADS")
    eng = open_engine("duckdb")
    try:
        import duckdb

        assert eng.con.execute("SELECT current_setting('threads')").fetchone()[0] == \
            duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]
    finally:
        eng.close()


def test_translation_rules():
    """What sqlglot leaves to us, spelt out: decimal literals as DOUBLE, ANY_VALUE ignoring NULLs, TO_YEARS."""
    got = to_spark("SELECT ANY_VALUE(x) FILTER (WHERE y = 1.5), d + TO_YEARS(CAST(3 AS INTEGER)) FROM t")
    assert "ANY_VALUE(x, TRUE) FILTER" in got and "CAST(1.5 AS DOUBLE)" in got and "MAKE_YM_INTERVAL" in got


# ---- the later batch commands: ranking and simulation ----------------------------------------------
def test_rank_same_on_duckdb_and_spark(demo, spark_engine):
    """`rank --engine spark`: the priority ranking (indicator values, scores, ranks, stability) as on DuckDB
    (every demo cluster ranked: the small demo recognises none through the workflow)."""
    from smecluster.policy.priority import load_priority_pack
    from smecluster.services.priority import rank_clusters, rank_snapshot

    engine, _ = demo
    pack, year = load_priority_pack(None), latest_year(engine)
    snapshot = load_snapshot(engine)
    statuses = snapshot.frames["cluster"]["status"].unique().to_list()
    duck = rank_snapshot(snapshot, pack, year, statuses=statuses).to_json()
    assert len(duck["clusters"]) >= 2 and duck["decision_matrix"]  # a ranking, not an empty comparison
    diffs = same(duck, rank_snapshot(snapshot, pack, year, statuses=statuses, sql=spark_engine).to_json(), "rank")
    assert not diffs, "\n".join(diffs[:20])
    # the service the command calls passes the engine on
    assert not same(rank_clusters(engine).to_json(), rank_clusters(engine, sql=spark_engine).to_json())


def test_simulations_same_on_duckdb_and_spark(demo, spark_engine):
    """`simulate clusters | enterprises --engine spark`: the same winners, losers and counts as on DuckDB,
    for a threshold reform, a pack comparison and a validity reform (the reformed side's own facts)."""
    from smecluster.policy.reform import reform_from_sets
    from smecluster.services.simulate import (
        scenario_from_packs,
        scenario_from_reform,
        simulate_clusters,
        simulate_enterprises,
    )

    engine, _ = demo
    reform = scenario_from_reform(reform_from_sets("jiangsu-cluster-2023", ["J7.threshold=0.35", "J2.remove=true"]))
    duck = simulate_clusters(engine, reform).to_dict()
    assert all(c["criteria_changed"] for c in duck["clusters"])  # the reform changes every cluster's statuses
    diffs = same(duck, simulate_clusters(engine, reform, sql=spark_engine).to_dict(), "clusters")
    assert not diffs, "\n".join(diffs[:20])
    moved = 0
    for scenario in (scenario_from_packs("srdi-sme-2022", "srdi-sme-2026"),
                     scenario_from_reform(reform_from_sets("srdi-sme-2022", ["validity_years=2"]))):
        duck = simulate_enterprises(engine, scenario).to_dict()
        spark = simulate_enterprises(engine, scenario, sql=spark_engine).to_dict()
        diffs = same(duck, spark, scenario.label)
        assert not diffs, "\n".join(diffs[:20])
        assert duck["summary"]["firms"] > 100
        moved += len(duck["firms"])
    assert moved > 0  # some firm's verdict or designation changes: the comparison saw them


def test_batch_commands_take_the_engine_options():
    """rank and simulate take --engine and --spark-master, checked as evaluate checks them."""
    for args in (["rank"], ["simulate", "clusters", "--pack", "jiangsu-cluster-2023", "--set", "J7.threshold=0.3"],
                 ["simulate", "enterprises", "--pack", "srdi-sme-2026", "--set", "S6-2.threshold=50"]):
        out = CliRunner().invoke(app, [*args, "--engine", "presto"])
        assert out.exit_code == 1 and "duckdb, spark" in " ".join(out.output.split()), args
        out = CliRunner().invoke(app, [*args, "--spark-master", "spark://nowhere:7077"])
        assert out.exit_code == 1 and "needs --engine spark" in " ".join(out.output.split()), args


def _read_result_folder(folder) -> pa.Table:
    """A result folder of `evaluate enterprises --out`, each file checked to be in credit-code order and
    in its province's partition; the rows without the partition column."""
    import pyarrow.parquet as pq

    tables = []
    for f in sorted(folder.rglob("*.parquet")):
        t = pq.read_table(f)
        codes = t.column("uscc").to_pylist()
        assert codes == sorted(codes), f
        province = f.parent.name.removeprefix("province=")
        assert {c[:2] for c in t.column("county_code").to_pylist()} == {province}, f
        tables.append(t)
    return pa.concat_tables(tables)


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
def test_result_written_to_a_folder(demo, tmp_path, engine_name, request):
    """`evaluate enterprises --from DIR --out DIR2`: the engine writes the rows (by province, sorted by
    credit code, no firm key) instead of collecting them; they are the rows `evaluate_enterprises` gives."""
    from smecluster.services.tiers import write_enterprise_tiers

    engine, root = demo
    reg = layout.open_registry(root)
    sql = DuckDBEngine() if engine_name == "duckdb" else request.getfixturevalue("spark_engine")
    expected = evaluate_enterprises(None, source=reg, sql=DuckDBEngine()).table
    info = write_enterprise_tiers(reg, tmp_path / "out", sql=sql)
    got = _read_result_folder(tmp_path / "out")
    assert info["firms"] == expected.num_rows == got.num_rows
    assert got.column_names == expected.column_names == info["columns"]
    assert not same_tables(expected, got)
    saved = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert saved["format"] == "smecluster-tiers" and saved["outcome_codes"]["3"] == "qualifies"
    with pytest.raises(ValueError, match="not an empty folder"):
        write_enterprise_tiers(reg, tmp_path / "out", sql=sql)


def test_result_folder_from_the_cli(demo, tmp_path, monkeypatch):
    """The CLI's --out, DuckDB taking the registry in several batches (a batch limit of one firm)."""
    import smecluster.services.tiers as tiers_service

    _, root = demo
    monkeypatch.setattr(tiers_service, "BATCH_FIRMS", 1)
    result = CliRunner().invoke(app, ["evaluate", "enterprises", "--from", str(root), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    got = _read_result_folder(tmp_path / "o")
    expected = evaluate_enterprises(None, source=layout.open_registry(root), sql=DuckDBEngine()).table
    assert not same_tables(expected, got)
    result = CliRunner().invoke(app, ["evaluate", "enterprises", "--out", str(tmp_path / "p")])
    assert result.exit_code == 1 and "give --from" in " ".join(result.output.split())
