"""Chains on a province-sized registry read from the columnar snapshot with every firm's links kept
beside it (decision 2101): the same answers as from the database, and never a stale kept result."""

from __future__ import annotations

import polars as pl
import pytest
from test_chains_scenarios import _build

from smecluster.chains.assign import assign_links
from smecluster.chains.catalogue import load_catalogue
from smecluster.db import open_database
from smecluster.registry.importer import import_file
from smecluster.services.chains import (
    all_clusters,
    assignment_summary,
    chain_coverage,
    cluster_partners,
    database_registry,
    every_cluster,
    read_registry,
)
from smecluster.services.relatedness import county_industry_matrix, database_matrix


@pytest.fixture
def stored(database_url, tmp_path, monkeypatch):
    """The hand-checked scenario registry, treated as province-sized (snapshots under tmp_path)."""
    engine = open_database(database_url)
    uscc = _build(engine, tmp_path)
    monkeypatch.setenv("SMECLUSTER_SNAPSHOT_MIN_FIRMS", "1")
    monkeypatch.setenv("SMECLUSTER_SNAPSHOT_DIR", str(tmp_path / "snapshots"))
    return engine, uscc, tmp_path


def _kept_files(tmp_path, prefix: str) -> list:
    return sorted(p.name for p in (tmp_path / "snapshots").rglob(f"{prefix}*.parquet"))


def test_stored_answers_equal_the_database_answers(stored):
    """Coverage at every level, partners, every cluster and the links counted: the snapshot's answers
    are the database's, and the links were kept beside the snapshot."""
    engine, _, tmp_path = stored
    kept, direct = read_registry(engine), database_registry(engine)
    assert kept.kept is not None and direct.kept is None
    assert _kept_files(tmp_path, "chains-links-") and _kept_files(tmp_path, "chains-facts-")
    again = read_registry(engine)  # the second reader takes the kept links
    assert again.kept.row.to_list() == kept.kept.row.to_list()
    light = read_registry(engine, places=False)  # coverage reads no names or positions
    for level, code in (("cluster", "toy-cluster"), ("county", "320481"), ("city", "320400"), ("province", "32")):
        for chain in ("toy", None):
            expected = chain_coverage(direct, level, code, chain)
            assert chain_coverage(kept, level, code, chain) == expected, level
            assert chain_coverage(light, level, code, chain) == expected, level
    assert cluster_partners(kept, "toy-cluster", chain_id="toy") == cluster_partners(direct, "toy-cluster",
                                                                                      chain_id="toy")
    assert cluster_partners(kept, "toy-cluster") == cluster_partners(direct, "toy-cluster")
    for a, b in zip(every_cluster(kept), every_cluster(direct), strict=True):
        order = [c for c in ("cluster_id", "chain_id", "link_id", "uscc") if c in a.columns]
        assert a.sort(order).equals(b.sort(order))
    assert all_clusters(kept) == all_clusters(direct)
    summary, expected = assignment_summary(kept), assignment_summary(direct)
    assert summary.pop("kept") and not expected.pop("kept")
    assert summary == expected


def test_related_matrix_from_the_snapshot_equals_the_database(stored):
    """The county x class output matrix from the kept cells is the database's."""
    engine, _, tmp_path = stored
    a, b = county_industry_matrix(engine), database_matrix(engine)
    assert _kept_files(tmp_path, "related-cells-")
    assert (a.year, a.counties, a.industries) == (b.year, b.counties, b.industries)
    assert (a.x == b.x).all()


def test_an_override_import_is_seen_at_once(stored):
    """Importing an override moves the firm at the next question: the kept links of the older registry
    version are not used."""
    engine, uscc, tmp_path = stored
    before = read_registry(engine)
    firm = uscc["m1"]
    old = chain_links(before, firm)
    target = next(link.id for link in before.catalogue.chain("toy").links if link.id not in old)
    path = tmp_path / "move.csv"
    path.write_text(f"统一社会信用代码,产业链,环节\n{firm},toy,{target}\n", encoding="utf-8")
    assert import_file(engine, "chain_links", path).written
    after = read_registry(engine)
    assert after.kept is not None and chain_links(after, firm) == [target]


def chain_links(reg, firm: str) -> list[str]:
    """The toy chain's links of a firm, as the services give them."""
    from smecluster.services.chains import assignments

    return assignments(reg, ["toy"]).filter(pl.col("uscc") == firm)["link_id"].to_list()


def test_a_chain_alone_equals_its_rows_among_all_chains():
    """Decision 2100: a firm whose main products name one chain and whose business scope names another
    is in both; a chain's links are the same asked alone or with every chain (so one kept assignment
    answers every question)."""
    cat = load_catalogue(None)
    maps = list(cat.maps.values())
    first, second = maps[0], maps[1]
    word_a, word_b = first.links[0].keywords[0], second.links[0].keywords[0]
    firms = pl.DataFrame({"uscc": ["A", "B", "C"], "industry_code": ["0000", "0000", "0000"],
                          "main_products": [word_a, None, word_a], "business_scope": [word_b, word_b, None]})
    together = assign_links(firms, maps)
    for chain in (first, second):
        alone = assign_links(firms, [chain])
        assert alone.equals(together.filter(pl.col("chain_id") == chain.id)), chain.id
    in_second = together.filter((pl.col("chain_id") == second.id) & (pl.col("uscc") == "A"))
    assert in_second["via"].to_list() == ["scope_keyword"] and second.links[0].id in in_second["link_id"].to_list()
