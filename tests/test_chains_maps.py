"""Chain maps and systems: loading, checks with clear errors, codes against GB/T 4754, J9 from the list."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from builders import YEAR, RegistryBuilder
from conftest import REQUIRE_SHARED, SHARED

from smecluster.chains.catalogue import import_document, load_catalogue, unknown_classes
from smecluster.chains.maps import ChainError, ChainMap, load_file, shipped_files
from smecluster.db import open_database
from smecluster.registry.industries import shipped_industries
from smecluster.services.clusters import evaluate_clusters

CODES = SHARED / "data" / "gbt4754-2017-codes.csv"


def _map(**changes) -> dict:
    raw = yaml.safe_load((Path(shipped_files()[0]).parent / "rail-transit.yaml").read_text(encoding="utf-8"))
    raw.update(changes)
    return raw


def _write(tmp_path, raw) -> Path:
    path = tmp_path / "chain.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_every_shipped_document_loads():
    """Every shipped map and system passes the checks, and the catalogue links them."""
    cat = load_catalogue(None)
    assert {"power-battery", "rail-transit", "electronic-fluorine", "basic-components", "safety-emergency"} <= set(
        cat.maps)
    assert "jiangsu-1650" in cat.systems


def test_power_battery_chain_has_the_issue_links():
    """The power-battery draft covers resources, materials, cells to PACK, vehicles, storage, recycling."""
    chain = load_catalogue(None).chain("power-battery")
    names = {link.name for link in chain.links}
    for needed in ("锂资源", "正极材料", "负极材料", "电解液", "隔膜", "铜箔", "铝箔", "极耳", "电芯", "模组",
                   "电池包（PACK）", "电池管理系统", "结构件", "新能源汽车", "储能系统", "充换电设施", "回收利用"):
        assert needed in names
    assert {s.id for s in chain.segments} >= {"upstream", "downstream"}
    assert chain.effective_from and chain.sources


def test_every_class_is_in_the_shipped_industry_table():
    """Every code a shipped document names is in the product's industry table (so imports can check)."""
    known = {r["code"] for r in shipped_industries()}
    for path in shipped_files():
        assert unknown_classes(load_file(path), known) == [], path.name


def test_every_class_is_in_the_standard():
    """Every code a shipped document names is a code of GB/T 4754-2017 with the same name as shipped."""
    if not CODES.exists():
        if REQUIRE_SHARED:
            pytest.fail(f"{CODES} is required")
        pytest.skip("reference table not available")
    standard = {r["code"]: r["name"] for r in csv.DictReader(CODES.open(encoding="utf-8"))}
    shipped = {r["code"]: r["name"] for r in shipped_industries()}
    for path in shipped_files():
        doc = load_file(path)
        codes = doc.classes() if isinstance(doc, ChainMap) else {c for ch in doc.chains for c in ch.classes}
        for code in codes:
            assert code in standard, (path.name, code)
            assert shipped[code] == standard[code], (path.name, code)


def test_1650_system_lists_the_ten_excellence_chains_and_is_incomplete():
    """The "1650" system holds the structure (16, 50) and the 10 excellence chains, so it is incomplete."""
    system = load_catalogue(None).systems["jiangsu-1650"]
    assert (system.clusters_expected, system.chains_expected) == (16, 50)
    assert sum(c.excellence for c in system.chains) == 10
    assert not system.complete


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"edges": [["steel", "nowhere"]]}, "edges[0]: unknown link 'nowhere'"),
        ({"segments": [{"id": "upstream", "name": "上游", "name_en": "up"}]}, "unknown segment 'midstream'"),
        ({"kind": "chain"}, "kind must be chain_map or chain_system"),
        ({"effective_from": "someday"}, "effective_from"),
        ({"sources": []}, "sources"),
    ],
)
def test_bad_maps_name_the_file_and_the_reason(tmp_path, change, reason):
    """A broken map fails to load with the file and what is wrong."""
    path = _write(tmp_path, _map(**change))
    with pytest.raises(ChainError) as err:
        load_file(path)
    assert str(path) in str(err.value) and reason in str(err.value)


def test_bad_class_and_duplicate_link_are_refused(tmp_path):
    """A code that is not 2-4 digits, and a link id used twice, are refused."""
    raw = _map()
    raw["links"][0]["classes"] = ["31A0"]
    with pytest.raises(ChainError, match="'31A0' is not a GB/T 4754 code"):
        load_file(_write(tmp_path, raw))
    raw = _map()
    raw["links"].append(dict(raw["links"][0]))
    with pytest.raises(ChainError, match="duplicate link id 'steel'"):
        load_file(_write(tmp_path, raw))


def test_import_refuses_a_class_missing_from_the_industry_table(database_url, tmp_path):
    """Importing a map naming a code the registry's industry table lacks stores nothing."""
    engine = open_database(database_url)
    RegistryBuilder(engine).build()
    with pytest.raises(ChainError, match="not in the industry table: 3130"):
        import_document(engine, _write(tmp_path, _map(id="my-rail")), datetime(2026, 11, 30))
    assert "my-rail" not in load_catalogue(engine).maps


def _j9(engine) -> str:
    (verdict,) = evaluate_clusters(engine, year=YEAR)
    return {c.id: c for c in verdict.criteria}["J9"].status


def test_j9_is_unknown_while_the_list_is_incomplete_and_fails_once_complete(database_url, tmp_path):
    """Leading 384 is on none of the 10 known chains: unknown; after importing a complete list without
    it: fail; with a chain covering 3841: pass."""
    engine = open_database(database_url)
    RegistryBuilder(engine).build()
    assert _j9(engine) == "unknown"
    raw = yaml.safe_load((shipped_files()[0].parent / "jiangsu-1650.yaml").read_text(encoding="utf-8"))
    raw["chains"] = [{"id": f"c{i}", "name": f"链{i}", "name_en": f"c{i}", "classes": ["3484"]} for i in range(50)]
    import_document(engine, _write(tmp_path, raw), datetime(2026, 11, 30))
    assert _j9(engine) == "fail"
    raw["chains"][0]["classes"] = ["3841"]
    import_document(engine, _write(tmp_path, raw), datetime(2026, 11, 30))
    assert _j9(engine) == "pass"
