"""Importing the other kinds: yearly indicators, designations, platforms, clusters, members, industries."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import shared_file
from import_support import CODE_A, CODE_B, count, good_enterprises, registry_engine, snapshot, write_csv
from sqlalchemy import select

from smecluster.registry.models import Cluster, ClusterMember, Designation, EnterpriseYear, Industry, Platform
from smecluster.services.registry import import_registry_file

YEAR_HEADERS = [
    "统一社会信用代码",
    "年份",
    "营业收入(万元)",
    "工业总产值(万元)",
    "研发经费(万元)",
    "从业人员(人)",
    "研发人员(人)",
    "是否上云",
]


@pytest.fixture
def engine(database_url, tmp_path):
    """A registry with the test regions, industries and three enterprises."""
    eng = registry_engine(database_url)
    assert import_registry_file(eng, "enterprises", good_enterprises(tmp_path / "e.csv")).ok
    return eng


def _cluster_file(tmp_path):
    return write_csv(
        tmp_path / "clusters.csv",
        ["集群编号", "集群名称", "所在县区代码", "主导产业代码", "申报年份", "申报集群总产值(万元)"],
        [["LY-BAT", "溧阳市动力电池产业集群", "320481", "3841;3849", "2024", "1200000"]],
    )


def test_yearly_indicators_are_stored_typed(engine, tmp_path):
    """Yearly figures are stored as numbers, counts as integers and 是/否 as booleans."""
    path = write_csv(
        tmp_path / "y.csv",
        YEAR_HEADERS,
        [
            [CODE_A, "2024", "52,000.5", "60000", "2100", "350", "41", "是"],
            [CODE_B, "2024", "800", "", "", "12", "", "否"],
        ],
    )
    assert import_registry_file(engine, "enterprise_years", path).stored.inserted == 2
    with engine.connect() as conn:
        a = conn.execute(select(EnterpriseYear).where(EnterpriseYear.uscc == CODE_A)).one()
    assert (a.revenue, a.employees, a.cloud, a.output) == (52000.5, 350, True, 60000.0)


@pytest.mark.parametrize(
    ("cell", "column", "reason"),
    [
        (["-5"], "营业收入(万元)", "negative"),
        (["abc"], "营业收入(万元)", "not a number"),
        (["1", "12.5"], "从业人员(人)", "not a whole number"),
        (["1", "3", "也许"], "是否上云", "是/否"),
    ],
)
def test_bad_figures_are_refused(engine, tmp_path, cell, column, reason):
    """Negative, non-numeric, fractional counts and unknown yes/no words stop the import."""
    values = {"营业收入(万元)": "1", "从业人员(人)": "3", "是否上云": "是"}
    for header, value in zip(("营业收入(万元)", "从业人员(人)", "是否上云"), cell, strict=False):
        values[header] = value
    headers = ["统一社会信用代码", "年份", *values]
    before = snapshot(engine)
    result = import_registry_file(
        engine,
        "enterprise_years",
        write_csv(tmp_path / "y.csv", headers, [[CODE_A, "2024", *values.values()]]),
    )
    hit = result.errors.filter(pl.col("column") == column)
    assert reason in hit["reason"].item() and hit["row"].item() == 2
    assert snapshot(engine) == before


def test_yearly_row_of_unknown_enterprise_is_refused(engine, tmp_path):
    """Figures for a credit code not in the registry are refused."""
    from smecluster.registry.uscc import make_uscc_one

    stranger = make_uscc_one("91320481MA1P00009")
    result = import_registry_file(
        engine,
        "enterprise_years",
        write_csv(tmp_path / "y.csv", ["统一社会信用代码", "年份"], [[stranger, "2024"]]),
    )
    assert "no enterprise" in result.errors["reason"].item()
    assert count(engine, EnterpriseYear) == 0


def test_duplicate_year_rows_are_refused(engine, tmp_path):
    """The same enterprise and year twice in a file is a duplicate key."""
    path = write_csv(tmp_path / "y.csv", ["统一社会信用代码", "年份"], [[CODE_A, "2024"], [CODE_A, "2024"]])
    result = import_registry_file(engine, "enterprise_years", path)
    assert result.errors["row"].to_list() == [2, 3]


def test_designations_accept_chinese_names(engine, tmp_path):
    """Designation kinds written in Chinese (curly quotes too) are stored as their codes."""
    path = write_csv(
        tmp_path / "d.csv",
        ["统一社会信用代码", "称号类型", "认定年份", "有效期止"],
        [
            [CODE_A, "专精特新“小巨人”企业", "2022", "2025-06-30"],
            [CODE_A, "高新技术企业", "2023", ""],
        ],
    )
    assert import_registry_file(engine, "designations", path).ok
    with engine.connect() as conn:
        kinds = set(conn.execute(select(Designation.kind)).scalars())
    assert kinds == {"little_giant", "high_tech"}


def test_designation_reimport_changes_nothing(engine, tmp_path):
    """Designations upsert on (credit code, kind, year)."""
    path = write_csv(
        tmp_path / "d.csv",
        ["统一社会信用代码", "称号类型", "认定年份"],
        [[CODE_A, "专精特新中小企业", "2023"]],
    )
    import_registry_file(engine, "designations", path)
    before = snapshot(engine)
    import_registry_file(engine, "designations", path)
    assert snapshot(engine) == before


def test_clusters_members_and_platforms(engine, tmp_path):
    """A cluster, its members and a platform linked by the cluster's code are stored."""
    assert import_registry_file(engine, "clusters", _cluster_file(tmp_path)).ok
    members = write_csv(
        tmp_path / "m.csv", ["集群编号", "统一社会信用代码"], [["LY-BAT", CODE_A], ["LY-BAT", CODE_B]]
    )
    assert import_registry_file(engine, "cluster_members", members).stored.inserted == 2
    platforms = write_csv(
        tmp_path / "p.csv",
        ["平台名称", "平台级别", "平台类型", "所在县区代码", "依托单位统一社会信用代码", "所属集群编号"],
        [["天目湖先进储能技术研究院", "省级", "新型研发机构", "320481", CODE_A, "LY-BAT"]],
    )
    assert import_registry_file(engine, "platforms", platforms).ok
    with engine.connect() as conn:
        cluster = conn.execute(select(Cluster)).one()
        platform = conn.execute(select(Platform)).one()
    assert cluster.leading_industries == ["3841", "3849"]
    assert cluster.declared == {"cluster_output": 1200000.0}
    assert (platform.level, platform.cluster_id) == ("provincial", cluster.id)
    assert count(engine, ClusterMember) == 2


def test_member_of_unknown_cluster_is_refused(engine, tmp_path):
    """A member row naming a cluster code that does not exist is refused."""
    members = write_csv(tmp_path / "m.csv", ["集群编号", "统一社会信用代码"], [["NOPE", CODE_A]])
    result = import_registry_file(engine, "cluster_members", members)
    assert "no cluster" in result.errors["reason"].item()


def test_cluster_with_unknown_leading_industry_is_refused(engine, tmp_path):
    """Every code of a cluster's leading industries must exist in the industry table."""
    path = write_csv(
        tmp_path / "c.csv",
        ["集群编号", "集群名称", "所在县区代码", "主导产业代码"],
        [["X", "某集群", "320481", "3841、3999"]],
    )
    result = import_registry_file(engine, "clusters", path)
    assert result.errors.select("value", "column").row(0) == ("3999", "主导产业代码")


def test_cluster_reimport_keeps_declared_figures_as_json(engine, tmp_path):
    """Re-importing a cluster leaves its JSON columns and row unchanged."""
    import_registry_file(engine, "clusters", _cluster_file(tmp_path))
    before = snapshot(engine)
    again = import_registry_file(engine, "clusters", _cluster_file(tmp_path))
    assert snapshot(engine) == before and again.stored.updated == 0
    with engine.connect() as conn:
        assert conn.execute(select(Cluster.leading_industries)).scalar_one() == ["3841", "3849"]


def test_full_industry_table_loads(database_url):
    """The full four-level GB/T 4754-2017 table (shared copy) loads with its English headers."""
    source = shared_file("data/gbt4754-2017-codes.csv")
    engine = registry_engine(database_url)
    result = import_registry_file(engine, "industries", source)
    assert result.ok, result.errors
    with engine.connect() as conn:
        levels = dict(
            conn.execute(select(Industry.level, Industry.code).where(Industry.code == "3841")).all()
        )
        total = len(conn.execute(select(Industry.code)).all())
    assert total == pl.read_csv(source, infer_schema=False).height
    assert levels == {4: "3841"}


def test_industry_with_unknown_parent_is_refused(database_url, tmp_path):
    """An industry whose parent is neither in the file nor loaded is refused."""
    engine = registry_engine(database_url)
    path = write_csv(
        tmp_path / "i.csv",
        ["code", "name", "level", "parent", "section"],
        [["3842", "某电池", "4", "385", "C"]],
    )
    result = import_registry_file(engine, "industries", path)
    assert result.errors.select("column", "value").row(0) == ("parent", "385")  # named as in the file


def test_rd_staff_above_employees_is_refused(engine, tmp_path):
    """More R&D staff than persons employed is an error on that row."""
    path = write_csv(
        tmp_path / "y.csv",
        ["统一社会信用代码", "年份", "从业人员(人)", "研发人员(人)"],
        [[CODE_A, "2024", "10", "12"], [CODE_B, "2024", "10", "3"]],
    )
    result = import_registry_file(engine, "enterprise_years", path)
    assert result.errors.select("row", "column", "value").rows() == [(2, "研发人员(人)", "12 > 10")]


def test_validity_ending_before_it_begins_is_refused(engine, tmp_path):
    """A designation valid until a day before it is valid from is refused."""
    path = write_csv(
        tmp_path / "d.csv",
        ["统一社会信用代码", "称号类型", "认定年份", "有效期起", "有效期止"],
        [[CODE_A, "高新技术企业", "2023", "2023-12-01", "2023-01-01"]],
    )
    result = import_registry_file(engine, "designations", path)
    assert "ends before it begins" in result.errors["reason"].item()
