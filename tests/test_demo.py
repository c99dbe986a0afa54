"""The demo: five national clusters recognised, each near miss failing its one condition."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.demo.generator import generate, load_specs
from smecluster.services.demo import build_demo

SPECS = {s["code"]: s for s in load_specs()["clusters"]}


@pytest.fixture(scope="module")
def demo_json(tmp_path_factory):
    """`smecluster demo --no-serve` then `smecluster evaluate cluster --all --format json`."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    runner = CliRunner()
    built = runner.invoke(app, ["--db", str(db), "demo", "--no-serve", "--scale", "0.3"])
    assert built.exit_code == 0, built.output
    evaluated = runner.invoke(app, ["--db", str(db), "evaluate", "cluster", "--all", "--format", "json"])
    assert evaluated.exit_code == 0, evaluated.output
    return json.loads(evaluated.output)


def test_national_clusters_are_recognised(demo_json):
    """The five national clusters of Jiangsu meet the provincial conditions."""
    national = [v for v in demo_json if SPECS[v["cluster"]["code"]].get("national")]
    assert len(national) == 5
    assert {v["outcome"] for v in national} == {"recognised"}


def test_each_near_miss_fails_its_one_condition(demo_json):
    """Every near miss is not recognised and fails exactly the condition it was built to fail."""
    misses = [v for v in demo_json if SPECS[v["cluster"]["code"]].get("fails")]
    assert len(misses) == 6
    for v in misses:
        failing = [c["id"] for c in v["criteria"] if c["status"] == "fail"]
        assert (v["outcome"], failing) == ("not_recognised", [SPECS[v["cluster"]["code"]]["fails"]])
        assert all(c["gap"] for c in v["criteria"] if c["status"] == "fail")


def test_json_has_the_documented_keys(demo_json):
    """Each verdict has cluster, policy, outcome and criteria with id, status, value, threshold, clause, gap."""
    v = demo_json[0]
    assert {"cluster", "policy", "outcome", "criteria"} <= set(v)
    assert {"id", "status", "value", "threshold", "clause", "gap"} <= set(v["criteria"][0])


def test_generator_is_deterministic():
    """The same seed gives the same registry."""
    a, b = generate(seed=7, scale=0.05), generate(seed=7, scale=0.05)
    assert a.enterprise.equals(b.enterprise) and a.enterprise_year.equals(b.enterprise_year)
    c = generate(seed=8, scale=0.05)  # the seed is used: another seed gives other figures
    assert not c.enterprise_year.equals(a.enterprise_year)


def test_demo_firms_lie_in_their_county():
    """Background firms' coordinates fall inside their registered county's polygon."""
    import shapely

    from smecluster.geo.counties import county_geometries

    data = generate(seed=3, scale=0.05)
    geoms = county_geometries("32")
    sample = data.enterprise.head(300)
    inside = [
        shapely.contains_xy(geoms[c], x, y)
        for c, x, y in sample.select("county_code", "lon", "lat").iter_rows()
    ]
    assert all(inside)


def test_demo_builds_on_postgresql_too(database_url):
    """The demo builds and evaluates on both databases with the same outcomes."""
    counts, verdicts = build_demo(open_database(database_url), scale=0.05)
    assert counts["cluster"] == len(SPECS)
    assert sum(v.outcome == "recognised" for v in verdicts) == 5


def test_demo_rebuilds_over_workflow_data(database_url):
    """Building the demo again succeeds after an application points at a demo cluster."""
    from datetime import datetime

    from sqlalchemy import func, insert, select

    from smecluster.registry.models import Cluster
    from smecluster.workflow.models import Application

    engine = open_database(database_url)
    build_demo(engine, scale=0.02)
    with engine.begin() as conn:
        cluster = conn.execute(select(Cluster.id, Cluster.county_code)).first()
        now = datetime(2026, 1, 1)
        conn.execute(insert(Application), [{"cluster_id": cluster.id, "county_code": cluster.county_code, "year": 2025,
                                            "workflow": "jiangsu-workflow-2023", "stage": "draft", "version": 1,
                                            "created_at": now, "updated_at": now}])
    counts, _ = build_demo(engine, scale=0.02)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Application)).scalar() == 0
    assert counts["cluster"] == len(SPECS)


def test_demo_recognises_the_national_clusters_through_the_workflow(database_url):
    """The national clusters go through every step to recognised (audited, the chain intact); the near
    misses stay submitted applications; anonymous visitors see exactly the five; logins are returned."""
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from smecluster.registry.models import Cluster
    from smecluster.services.demo import stage_demo
    from smecluster.web.app import create_app
    from smecluster.workflow.audit import verify
    from smecluster.workflow.models import Application, Transition

    engine = open_database(database_url)
    build_demo(engine, scale=0.02)
    logins = stage_demo(engine)
    assert {"demo_province", "demo_city", "demo_county"} <= {user for user, _, _ in logins}
    with engine.connect() as conn:
        stages = dict(
            conn.execute(
                select(Cluster.code, Application.stage).join(Application, Application.cluster_id == Cluster.id)
            ).all()
        )
        steps = conn.execute(select(func.count()).select_from(Transition)).scalar()
    national = {c for c, s in SPECS.items() if s.get("national")}
    misses = {c for c, s in SPECS.items() if s.get("fails")}
    assert {stages[c] for c in national} == {"recognised"} and {stages[c] for c in misses} == {"submitted"}
    assert steps == 5 * 5 + 6  # submit, recommend, start review, publish notice, recognise; near misses: submit
    assert verify(engine).ok
    anonymous = TestClient(create_app(database_url), base_url="https://testserver")
    shown = {v["cluster"]["code"] for v in anonymous.get("/api/clusters").json()}
    assert shown == national


def test_demo_command_prints_a_login(tmp_path):
    """`smecluster demo --no-serve` ends with the demo logins (passwords shown once)."""
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "d.db"), "demo", "--no-serve", "--scale", "0.02"])
    assert result.exit_code == 0, result.output
    assert "demo logins" in result.output and "demo_province" in result.output


def test_platform_names_read_as_names():
    """A demo platform is named after its cluster's place and industry, never after a cut of the cluster's
    full name ("...产业集群（示例：非县重点实验室3" came from cutting four characters off a near miss's note),
    and its type is the one its name says."""
    from smecluster.demo.generator import platform_stem

    assert platform_stem("南京市江宁区专用设备产业集群（示例：非县域支柱）") == "南京市江宁区专用设备"
    assert platform_stem("溧阳市动力电池产业集群") == "溧阳市动力电池"
    data = generate(seed=7, scale=0.05)
    hosted = data.platform.filter(data.platform["host_uscc"].is_not_null())
    assert hosted.height > 0
    for name, kind in hosted.select("name", "type").iter_rows():
        assert "产业集群" not in name and "示例：" not in name, name
        assert name.endswith("（示例）") and name.count("（") == 1, name
        assert kind in name, (name, kind)
