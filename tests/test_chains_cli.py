"""`smecluster chain ...` on the hand-checked scenario registry: list, show, import, coverage and partners
in every format (xlsx read back through LibreOffice)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml
from test_chains_scenarios import SPEC, _build
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.db import open_database

UTF8_CSV = "csv:Text - txt - csv (StarCalc):44,34,76"  # comma, double quote, UTF-8


@pytest.fixture
def db(database_url, tmp_path):
    uscc = _build(open_database(database_url), tmp_path)
    return database_url, uscc


def _run(*args):
    return CliRunner().invoke(app, list(args))


def test_list_and_show(db):
    """`chain list` shows shipped and imported maps and the incomplete 1650 system; `show` the links."""
    url, _ = db
    r = _run("--db", url, "chain", "list")
    assert r.exit_code == 0 and "power-battery" in r.output and "toy" in r.output and "imported" in r.output
    assert "10/50" in r.output
    r = _run("--db", url, "chain", "show", "toy", "--format", "json")
    assert [link["id"] for link in json.loads(r.output)["links"]] == ["a", "b", "c", "d"]
    r = _run("--db", url, "chain", "show", "nothing")
    assert r.exit_code == 1 and "unknown chain 'nothing'" in r.output


def test_coverage_json_per_link(db):
    """JSON per link: id, name, segment, status, firms, output, top_share, as hand-checked."""
    url, _ = db
    r = _run("--db", url, "chain", "coverage", "--cluster", "toy-cluster", "--chain", "toy", "--format", "json")
    assert r.exit_code == 0, r.output
    (result,) = json.loads(r.output)
    links = {link["id"]: link for link in result["links"]}
    assert {"id", "name", "segment", "status", "firms", "output", "top_share"} <= set(links["a"])
    assert {k: v["status"] for k, v in links.items()} == {
        k: v["status"] for k, v in SPEC["expect"]["cluster"]["links"].items()}


def test_coverage_needs_one_scope(db):
    """Two scopes, none, or an unknown county are refused with a clear message."""
    url, _ = db
    assert "exactly one of" in _run("--db", url, "chain", "coverage", "--county", "320481", "--city", "320400").output
    r = _run("--db", url, "chain", "coverage", "--county", "999999")
    assert r.exit_code == 1 and "no county with code '999999'" in r.output


def test_partners_table(db):
    """The partner table names the candidate's county and the nearest comes first."""
    url, _ = db
    r = _run("--db", url, "chain", "partners", "--cluster", "toy-cluster", "--chain", "toy", "--link", "d")
    assert r.exit_code == 0, r.output
    assert r.output.index("溧阳市") < r.output.index("金坛区") < r.output.index("武进区") < r.output.index("宜兴市")


def test_import_bad_file_names_the_reason(db, tmp_path):
    """`chain import` of a broken map fails with the file and the reason; a good one replaces the old."""
    url, _ = db
    bad = dict(SPEC["chain"], edges=[["a", "zz"]])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    r = _run("--db", url, "chain", "import", str(path))
    assert r.exit_code == 1 and "bad.yaml" in r.output and "unknown link 'zz'" in r.output
    good = dict(SPEC["chain"], version="2")
    path.write_text(yaml.safe_dump(good, allow_unicode=True), encoding="utf-8")
    assert _run("--db", url, "chain", "import", str(path)).exit_code == 0
    assert json.loads(_run("--db", url, "chain", "show", "toy", "--format", "json").output)["version"] == "2"


def test_xlsx_read_back_with_libreoffice(db, tmp_path):
    """The coverage and partner workbooks open in LibreOffice and hold the links, statuses and firms."""
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice not installed")
    url, uscc = db
    cov, par = tmp_path / "cov.xlsx", tmp_path / "par.xlsx"
    assert _run("--db", url, "chain", "coverage", "--cluster", "toy-cluster", "--chain", "toy", "--format", "xlsx",
                "-o", str(cov)).exit_code == 0
    assert _run("--db", url, "chain", "partners", "--cluster", "toy-cluster", "--chain", "toy", "--format", "xlsx",
                "-o", str(par)).exit_code == 0
    for path in (cov, par):
        subprocess.run(["soffice", "--headless", "--convert-to", UTF8_CSV, "--outdir", str(tmp_path), str(path)],
                       check=True, capture_output=True, timeout=120)
    cov_text = (tmp_path / "cov.csv").read_text(encoding="utf-8")
    assert "missing" in cov_text and "电解液" in cov_text and "weak" in cov_text
    par_text = (tmp_path / "par.csv").read_text(encoding="utf-8")
    assert uscc["p5"] in par_text and uscc["p3"] in par_text


def test_partners_of_every_cluster(db):
    """`chain partners --all`: each cluster's coverage in its chains (the hand-checked statuses) and the
    partners of each gap, nearest first, as for the one cluster."""
    url, uscc = db
    r = _run("--db", url, "chain", "partners", "--all", "--format", "json")
    assert r.exit_code == 0, r.output
    (cluster,) = json.loads(r.output)["clusters"]
    assert cluster["cluster"]["code"] == "toy-cluster"
    toy = next(c for c in cluster["chains"] if c["chain_id"] == "toy")
    assert {link["id"]: link["status"] for link in toy["links"]} == {
        k: v["status"] for k, v in SPEC["expect"]["cluster"]["links"].items()}
    gap = next(g for g in cluster["gaps"] if g["chain_id"] == "toy" and g["link_id"] == "d")
    assert [p["uscc"] for p in gap["partners"]] == [uscc[k] for k in SPEC["expect"]["partners"]["d"]]
    assert "--all takes no" in _run("--db", url, "chain", "partners", "--all", "--cluster", "toy-cluster").output
    assert "give --cluster ID or --all" in _run("--db", url, "chain", "partners").output


def test_assign_counts_links_by_evidence(db):
    """`chain assign`: every firm's links counted per chain and kind of evidence (the scenario's override,
    scope keyword, keyword and class firms of the toy chain)."""
    url, _ = db
    r = _run("--db", url, "chain", "assign", "--format", "json")
    assert r.exit_code == 0, r.output
    found = json.loads(r.output)
    assert found["firms"] == len(SPEC["firms"]) and not found["kept"]
    toy = found["chains"]["toy"]
    assert {"override", "keyword", "scope_keyword", "class"} <= set(toy)
    assert toy["override"]["firms"] == len([o for o in SPEC["overrides"] if o["chain"] == "toy"])
