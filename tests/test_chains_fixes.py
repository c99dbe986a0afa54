"""Issue 12 fixes: a chain import or a link-override import bumps the registry version (so results kept
per version are computed anew), and `related` on a county with no output gives an empty answer."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import yaml
from sqlalchemy import insert
from test_chains_scenarios import SPEC, _build
from typer.testing import CliRunner

from smecluster.chains.catalogue import import_document
from smecluster.chains.maps import ChainError
from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.registry.importer import import_file
from smecluster.registry.models import Region
from smecluster.registry.version import current_version, writes_registry


def test_chain_import_and_overrides_bump_the_registry_version(database_url, tmp_path):
    """A new chain map and new link overrides each bump the version; a refused file changes nothing."""
    engine = open_database(database_url)
    uscc = _build(engine, tmp_path)
    start = current_version(engine)
    path = tmp_path / "toy2.yaml"
    path.write_text(yaml.safe_dump(dict(SPEC["chain"], version="2"), allow_unicode=True), encoding="utf-8")
    import_document(engine, path, datetime(2026, 11, 30))
    after_map = current_version(engine)
    assert after_map[0] == start[0] and after_map[1] > start[1]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(dict(SPEC["chain"], edges=[["a", "zz"]]), allow_unicode=True), encoding="utf-8")
    with pytest.raises(ChainError):
        import_document(engine, bad, datetime(2026, 11, 30))
    assert current_version(engine) == after_map
    overrides = tmp_path / "more.csv"
    overrides.write_text(f"统一社会信用代码,产业链,环节\n{uscc['m1']},toy,b\n", encoding="utf-8")
    assert import_file(engine, "chain_links", overrides).written
    assert current_version(engine)[1] > after_map[1]
    assert writes_registry('INSERT INTO chain_document (id) VALUES (1)')
    assert writes_registry("DELETE FROM chain_link_override WHERE uscc = 'x'")


def test_related_on_a_county_with_no_output(database_url, tmp_path):
    """A county of the region table with no output: an empty answer and a plain message; an unknown
    code is refused naming it."""
    engine = open_database(database_url)
    _build(engine, tmp_path)
    with engine.begin() as conn:
        conn.execute(insert(Region), [{"code": "320402", "name": "天宁区", "level": "county",
                                       "parent_code": "320400", "lon": None, "lat": None}])
    runner = CliRunner()
    r = runner.invoke(app, ["--db", database_url, "related", "--county", "320402", "--format", "json"])
    assert r.exit_code == 0, r.output
    found = json.loads(r.output)
    assert found["county"] == {"code": "320402", "name": "天宁区"}
    assert found["options"] == [] and found["specialised"] == [] and found["eci"] is None
    r = runner.invoke(app, ["--db", database_url, "related", "--county", "320402"])
    assert r.exit_code == 0 and "no industrial output" in r.output
    r = runner.invoke(app, ["--db", database_url, "related", "--county", "999999"])
    assert r.exit_code == 1 and "no county with code '999999'" in r.output
    r = runner.invoke(app, ["--db", database_url, "related", "--county", "320481", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["diversity"] > 0


def test_partner_table_names_tiers_and_sizes_on_the_command_line(database_url, tmp_path):
    """`chain partners` prints a partner's tier and size class by their Chinese names, not the codes."""
    engine = open_database(database_url)
    uscc = _build(engine, tmp_path)
    with engine.begin() as conn:  # a tier for a partner of link d (p1: no tier in the scenario)
        from datetime import date

        from smecluster.registry.models import Designation

        conn.execute(insert(Designation), [{"uscc": uscc["p1"], "kind": "srdi_sme", "year": 2024,
                                            "valid_from": date(2024, 1, 1), "valid_until": date(2026, 12, 31)}])
    r = CliRunner().invoke(app, ["--db", database_url, "chain", "partners", "--cluster", "toy-cluster",
                                 "--chain", "toy", "--link", "d"])
    assert r.exit_code == 0, r.output
    assert "专精特新" in r.output and "srdi_sme" not in r.output
    assert any(w in r.output for w in ("大型", "中型", "小型", "微型"))
    assert not any(f" {w} " in r.output for w in ("large", "medium", "small", "micro"))
