"""The fictional national registry (`smecluster demo --national`): written as Parquet per the layout
contract, read back, every province present, credit codes valid and unique nationally, the planted
clusters recognised when evaluated against the national pack."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from stdnum.cn import uscc as stdnum_uscc
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.demo.national import PLANTED, PROVINCE_WEIGHTS, NationalDemoError, allocate, write_national
from smecluster.registry.parquet_layout import TABLES as LAYOUT_TABLES
from smecluster.registry.parquet_layout import open_registry

N = 20_000
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    """`smecluster demo --national --enterprises 20000 --out DIR` (small chunks: several per province)."""
    out = tmp_path_factory.mktemp("national") / "registry"
    result = CliRunner().invoke(app, ["demo", "--national", "--enterprises", str(N), "--out", str(out),
                                      "--chunk", "2000"])
    assert result.exit_code == 0, result.output
    return out


def _read(root: Path, table: str, con: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    sql = open_registry(root).duckdb_sql(table)
    assert sql is not None, f"{table} has no files"
    con = con or duckdb.connect()
    return con.sql(sql.replace("SELECT ", "SELECT province, ", 1) if LAYOUT_TABLES[table] else sql).pl()


def test_layout_follows_the_contract(national):
    """The manifest names the format and every table with its partition columns; files sit under
    province=NN (and year=YYYY) folders and hold no partition column themselves."""
    manifest = json.loads((national / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["format"], manifest["layout"]) == ("smecluster-parquet", 2)
    assert {t: v["partition_by"] for t, v in manifest["tables"].items()} == {
        t: list(k) for t, k in LAYOUT_TABLES.items()}
    registry = open_registry(national)  # the reader's checks pass
    assert (national / "industry" / "part-0.parquet").exists()
    some = sorted((national / "enterprise_year").glob("province=32/year=*/*.parquet"))
    assert {p.parent.name for p in some} == {f"year={y}" for y in range(2022, 2026)}
    files = registry.files("enterprise")
    assert files and all(p.parent.name.startswith("province=") for p in files)
    assert "province" not in pl.read_parquet_schema(files[0])
    assert "year" not in pl.read_parquet_schema(registry.files("designation")[0])


def test_every_province_and_four_years(national):
    """All 31 provinces hold firms in roughly their share; each firm has four years of indicators."""
    con = duckdb.connect()
    firms = _read(national, "enterprise", con)
    counts = dict(firms.group_by("province").len().iter_rows())
    assert set(counts) == set(PROVINCE_WEIGHTS)
    background = allocate(N, PROVINCE_WEIGHTS)
    planted = {c[:2] for c, _, _ in PLANTED}
    for p, n in background.items():
        assert counts[p] >= n and (p in planted or counts[p] == n)
    assert counts["44"] > counts["32"] > counts["54"] * 20  # Guangdong > Jiangsu >> Tibet
    assert (firms["province"] == firms["county_code"].str.slice(0, 2)).all()
    assert firms["fictional"].all() and firms["name"].str.ends_with("（示例）").all()
    years = _read(national, "enterprise_year", con)
    per_firm = years.group_by("uscc").agg(pl.col("year").n_unique().alias("n"))
    assert per_firm.height == firms.height and (per_firm["n"] == 4).all()
    regions = _read(national, "region", con)
    counties = regions.filter(pl.col("level") == "county")
    assert counties.height > 2800 and counties["code"].str.slice(0, 2).n_unique() >= 31
    assert firms["county_code"].is_in(counties["code"].implode()).all()


def test_credit_codes_valid_and_unique_nationally(national):
    """Every code passes python-stdnum's check and no code repeats across provinces."""
    firms = _read(national, "enterprise")
    assert firms["uscc"].is_unique().all()
    assert all(stdnum_uscc.is_valid(c) for c in firms["uscc"].to_list())
    assert (firms["uscc"].str.slice(2, 6) == firms["county_code"]).all()


def test_designation_rates_are_national(national):
    """Roughly the national rates: about 0.23% SRDI SMEs and 0.03% little giants of all firms (plus the
    planted clusters' own), little giants fewer than SRDI SMEs, every background little giant also SRDI
    (the tier ladder; the planted clusters keep their templates' designations)."""
    con = duckdb.connect()
    members = _read(national, "cluster_member", con)["uscc"]
    d = _read(national, "designation", con).filter(~pl.col("uscc").is_in(members.implode()))
    firms = _read(national, "enterprise", con).height
    srdi = d.filter(pl.col("kind") == "srdi_sme")["uscc"].n_unique()
    giants = d.filter(pl.col("kind") == "little_giant")["uscc"]
    assert 0.001 * firms < srdi < 0.02 * firms
    assert 0 < giants.n_unique() < srdi
    assert giants.is_in(d.filter(pl.col("kind") == "srdi_sme")["uscc"].implode()).all()
    # the rates are of titles in force: every background title of a national rate is valid at the end
    # of the data year (granted within its validity, not up to four years before)
    from datetime import date

    from smecluster.demo.national import DESIGNATION_RATES

    rated = d.filter(pl.col("kind").is_in(list(DESIGNATION_RATES)))
    end = date(2025, 12, 31)
    assert rated.height and rated.filter((pl.col("valid_from") > end) | (pl.col("valid_until") < end)).is_empty()


def test_province_batches_same_as_one_query(national, monkeypatch):
    """DuckDB evaluates a Parquet registry a few provinces at a time (decision 2151): batches of a
    few thousand firms give the rows one query over the whole registry gives, in credit-code order."""
    from smecluster.analytics.engines import DuckDBEngine
    from smecluster.services import tiers

    class Whole(DuckDBEngine):
        by_province = False

    registry = open_registry(national)
    whole = tiers.evaluate_enterprises(None, source=registry, sql=Whole())
    monkeypatch.setattr(tiers, "BATCH_FIRMS", 3000)
    batches = tiers.province_batches(registry, 3000)
    assert len(batches) > 5 and [p for b in batches for p in b] == sorted(PROVINCE_WEIGHTS)
    assert sum(registry.provinces().values()) == whole.table.num_rows
    engine = DuckDBEngine()
    parts = tiers.evaluate_enterprises(None, source=registry, sql=engine)
    assert parts.table.equals(whole.table)
    # the engine's views are over the whole registry again afterwards
    assert engine.arrow("SELECT COUNT(*) AS n FROM enterprise").column("n")[0].as_py() == whole.table.num_rows
    codes = parts.table.column("uscc").to_pylist()
    assert codes == sorted(codes)
    # written instead of collected (--out), batch by batch: the same rows, by province, in code order
    info = tiers.write_enterprise_tiers(registry, national.parent / "result", sql=DuckDBEngine())
    files = sorted((national.parent / "result").rglob("*.parquet"))
    assert info["firms"] == whole.table.num_rows and len(files) == len(registry.provinces())
    written = pl.concat([pl.read_parquet(f, hive_partitioning=False) for f in files])
    assert written.equals(pl.from_arrow(whole.table))


def test_firm_key_ordered_as_credit_codes(national):
    """Layout 2: every firm's rows carry its integer key, unique and ordered as the credit codes, files
    in key order (decision 2270)."""
    registry = open_registry(national)
    assert registry.key == "firm"
    con = duckdb.connect()
    firms = _read(national, "enterprise", con).sort("uscc")
    assert firms["firm"].is_unique().all() and firms["firm"].is_sorted()
    for table in ("enterprise_year", "enterprise_profile", "designation"):
        rows = _read(national, table, con).join(firms.select("uscc", "firm"), on="uscc", how="left", suffix="_e")
        assert (rows["firm"] == rows["firm_e"]).all(), table
    for f in registry.files("enterprise_year")[:20]:
        assert pl.read_parquet(f, hive_partitioning=False)["firm"].is_sorted(), f


@pytest.mark.skipif(not (SHARED / "gbt4754-2017-codes.csv").exists(), reason="../shared/data not present")
def test_industry_codes_are_real_classes(national):
    """Every firm's industry is a class of GB/T 4754-2017 (checked against the reference table)."""
    reference = pl.read_csv(SHARED / "gbt4754-2017-codes.csv", schema_overrides={"code": pl.Utf8})
    classes = reference.filter(pl.col("level") == 4)["code"]
    used = _read(national, "enterprise")["industry_code"].unique()
    assert used.is_in(classes.implode()).all()


def _outcomes(verdicts) -> dict[str, tuple[str, list[str]]]:
    return {v.cluster["code"]: (v.outcome, [c.id for c in v.criteria if c.status in ("fail", "unknown")])
            for v in verdicts}


@pytest.mark.parametrize("pack", ["miit-cluster-2022", "jiangsu-cluster-2023"])
def test_planted_clusters_pass_from_the_folder(national, pack):
    """`smecluster evaluate cluster --all --from DIR` (DuckDB over the files): each planted cluster, none in
    Jiangsu, in six provinces or more, is recognised under the national pack and under the provincial
    pack its template was built for."""
    result = CliRunner().invoke(app, ["evaluate", "cluster", "--all", "--from", str(national), "--policy", pack,
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    verdicts = json.loads(result.output)
    assert len(verdicts) == len(PLANTED)
    counties = {v["cluster"]["county_code"] for v in verdicts}
    assert not any(c.startswith("32") for c in counties) and len({c[:2] for c in counties}) >= 6
    outcomes = {v["cluster"]["code"]: (v["outcome"], [c["id"] for c in v["criteria"] if c["status"] != "pass"])
                for v in verdicts}
    assert {o for o, _ in outcomes.values()} == {"recognised"}, sorted(outcomes.items())


def test_planted_clusters_same_on_spark(national, spark_engine):
    """The same folder on Spark SQL (local mode): the planted clusters recognised under the national pack."""
    from smecluster.services.clusters import evaluate_clusters

    verdicts = evaluate_clusters(None, "miit-cluster-2022", source=open_registry(national), sql=spark_engine)
    assert len(verdicts) == len(PLANTED)
    assert {o for o, _ in _outcomes(verdicts).values()} == {"recognised"}, sorted(_outcomes(verdicts).items())


def test_same_seed_same_registry(tmp_path):
    """The generator is deterministic: the same seed and N give the same firms."""
    a, b = tmp_path / "a", tmp_path / "b"
    write_national(a, 400, seed=3)
    write_national(b, 400, seed=3)
    assert _read(a, "enterprise").sort("uscc").equals(_read(b, "enterprise").sort("uscc"))


def test_refuses_a_folder_in_use_and_a_tiny_n(tmp_path):
    """A non-empty folder is never written into; N below ten firms a province is refused."""
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(NationalDemoError, match="not empty"):
        write_national(tmp_path, 1000)
    with pytest.raises(NationalDemoError, match="at least 310"):
        write_national(tmp_path / "new", 100)
    result = CliRunner().invoke(app, ["demo", "--national", "--enterprises", "1000", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "not empty" in result.output


def test_allocation_adds_up():
    """Largest remainders: the provinces' parts add up to N exactly and follow the weights."""
    parts = allocate(60_000_000, PROVINCE_WEIGHTS)
    assert sum(parts.values()) == 60_000_000
    assert max(parts, key=parts.get) == "44" and min(parts, key=parts.get) in ("54", "63")
