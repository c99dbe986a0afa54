"""Policy rules the mutation run found unguarded: the pack diff's header and one-line tests, and `policy list`'s
header reader on packs whose header keys come after a block or that extend a base."""

from __future__ import annotations

import datetime as dt

import pytest

from smecluster.policy.diff import diff_packs
from smecluster.policy.listing import PackHeader, pack_headers
from smecluster.policy.pack import load_pack


def test_diff_names_both_editions_and_writes_a_best_of_test():
    """The header of each side as in the pack files; S-S11 (2022: the better of two R&D band tables) is gone
    in 2026 and reads "best of S-S11a, S-S11b"."""
    d = diff_packs(load_pack("srdi-sme-2022"), load_pack("srdi-sme-2026"))
    assert d["a"] == {"id": "srdi-sme-2022", "version": "2022.1", "effective_from": "2022-08-01",
                      "title": "优质中小企业梯度培育管理暂行办法（附件2：专精特新中小企业认定标准）"}
    assert d["b"] == {"id": "srdi-sme-2026", "version": "2026.1", "effective_from": "2026-04-01",
                      "title": "优质中小企业梯度培育管理办法（附件1：专精特新中小企业认定标准）"}
    row = next(r for r in d["criteria"] if r["id"] == "S-S11")
    assert (row["change"], row["test_a"], row["test_b"], row["clause_b"]) == \
        ("removed", "best of S-S11a, S-S11b", None, None)
    assert row["clause_a"].startswith("A. 研发费用总额500万元以上")
    assert d["counts"]["removed"] == sum(r["change"] == "removed" for r in d["criteria"])


BASE = """\
id: base-pack
kind: cluster_recognition
title: 基础标准
version: "1.0"
effective_from: 2023-01-01
criteria: []
"""
# The header keys after the sources block: the fast header read finds no id, and the whole file is read.
LATE = """\
sources:
  - {id: s1, title: 某文件}
id: late-pack
extends: base-pack
effective_from: 2024-07-01
effective_to: 2025-06-30
criteria: []
"""


def test_headers_after_a_block_and_inherited_from_a_base(tmp_path):
    """A pack whose id follows its sources is still listed; what it does not set comes from its base."""
    (tmp_path / "base-pack.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "late-pack.yaml").write_text(LATE, encoding="utf-8")
    assert pack_headers(tmp_path) == [
        PackHeader("base-pack", "cluster_recognition", "1.0", dt.date(2023, 1, 1), None, "基础标准"),
        PackHeader("late-pack", "cluster_recognition", "1.0", dt.date(2024, 7, 1), dt.date(2025, 6, 30), "基础标准"),
    ]


def test_a_pack_file_that_is_not_a_mapping_is_refused(tmp_path):
    """A YAML list is not a pack: the error names the file."""
    (tmp_path / "odd.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="odd.yaml: a pack is a mapping"):
        pack_headers(tmp_path)
