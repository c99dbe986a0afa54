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


def test_extend_replaces_drops_adds_and_marks_inherited_criteria_through_a_chain(tmp_path):
    """A pack extending a pack that extends a base: replace and drop act on the base's top-level criteria,
    added ones come last, carried-over ones (nested ones too) are marked unverified with the default note,
    the base's end and successor are not inherited, and the pack's own keys override."""
    import yaml

    from smecluster.policy.extend import extend

    def write(name: str, raw: dict) -> None:
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    write("root", {"id": "root", "title": "根", "version": "1", "effective_to": "2024-12-31",
                   "superseded_by": "other", "criteria": [
                       {"id": "A", "note": "原注"}, {"id": "B", "any": [{"id": "B1"}]}, {"id": "C"}]})
    write("middle", {"id": "middle", "extends": "root", "version": "2"})
    child = extend({"id": "child", "extends": "middle", "replace": [{"id": "A", "title": "新A"}], "drop": ["C"],
                    "criteria": [{"id": "D"}], "inherited_unverified": True}, tmp_path)
    note = "carried over from middle"
    assert child == {
        "id": "child", "title": "根", "version": "2", "extends": "middle",
        "criteria": [{"id": "A", "title": "新A"},
                     {"id": "B", "verified": False, "note": note,
                      "any": [{"id": "B1", "verified": False, "note": note}]},
                     {"id": "D"}],
    }
    plain = extend({"id": "plain", "extends": "root"}, tmp_path)
    assert plain["criteria"] == [{"id": "A", "note": "原注"}, {"id": "B", "any": [{"id": "B1"}]}, {"id": "C"}]
    with pytest.raises(ValueError, match="replace/drop names 'Z', not a criterion of root"):
        extend({"id": "bad", "extends": "root", "drop": ["Z"]}, tmp_path)


def test_best_of_keeps_only_the_options_checked_in_that_evaluation():
    """A "best of" score whose first option counts for new applications only: a re-review scores the
    second option alone; a new application keeps both (the same criterion, unchanged)."""
    from smecluster.policy.pack import Criterion

    bands = [{"min": 5, "points": 10}, {"max": 4, "points": 0}]
    new_only = Criterion(id="R-a", title="研发费用", role="score", indicator="members", bands=bands,
                         max_points=10, evaluations=["new"])
    always = Criterion(id="R-b", title="研发占比", role="score", indicator="debt_ratio", bands=bands, max_points=10)
    best = Criterion(id="R", title="研发", role="score", max_points=10, best_of=[new_only, always])
    review = best.for_evaluation("review")
    assert [c.id for c in review.best_of] == ["R-b"] and review.any is None and review.all is None
    assert best.for_evaluation("new") is best


@pytest.mark.parametrize(("comparator", "indicator", "value", "threshold", "short"), [
    (">=", "members", 8, 10, 2),                          # 2 more firms reach 10
    (">", "members", 8, 10, 3),                           # more than 10: 11, so 3 more
    ("<=", "members_outside_county", 5, 3, 2),            # 2 fewer reach 3
    ("<", "members_outside_county", 5, 3, 3),             # below 3: 2, so 3 fewer
    ("<", "debt_ratio", 0.80, 0.75, pytest.approx(0.05)),  # a share moves by the difference alone
    (">", "debt_ratio", 0.50, 0.55, pytest.approx(0.05)),
])
def test_shortfall_counts_whole_firms_past_a_strict_limit(comparator, indicator, value, threshold, short):
    """How far a value is from meeting its threshold, written out by hand: for a count, a strict comparison
    needs one more (or one fewer) whole firm than the threshold."""
    from smecluster.policy.gaps import shortfall
    from smecluster.policy.pack import Criterion

    c = Criterion(id="X", title="x", indicator=indicator, comparator=comparator, threshold=threshold)
    assert shortfall(c, value) == short


def test_a_banded_score_is_unknown_without_its_value_and_scored_with_one():
    """A scored criterion with bands (I-S4, debt ratio) has status pass when its value is known, whatever the
    band (its points are the score), and unknown when the value is missing."""
    import duckdb
    import polars as pl

    from smecluster.policy.compile import indicator_column, status_sql

    c = next(c for c in load_pack("innovative-sme-2022").all_criteria() if c.id == "I-S4")
    frame = pl.DataFrame({indicator_column(c.indicator, c.params): [0.3, 0.9, None]})
    con = duckdb.connect()
    con.register("t", frame.to_arrow())
    assert [r[0] for r in con.sql(f"SELECT {status_sql(c)} FROM t").fetchall()] == ["pass", "pass", "unknown"]


def test_a_reform_adds_a_top_level_criterion():
    """A reform adding a criterion without a parent puts it at the pack's top level, after the base's."""
    from smecluster.policy.reform import apply_reform, reform_from_dict

    base = load_pack("jiangsu-cluster-2023")
    added = {"id": "J10", "title": "新增条件", "indicator": "members", "comparator": ">=", "threshold": 20}
    reformed = apply_reform(reform_from_dict({"base": "jiangsu-cluster-2023", "changes": [{"add": added}]}))
    assert [c.id for c in reformed.criteria] == [c.id for c in base.criteria] + ["J10"]
    j10 = reformed.criteria[-1]
    assert (j10.indicator, j10.comparator, j10.threshold) == ("members", ">=", 20)


def test_a_reform_naming_an_unknown_criterion_lists_the_known_ones_even_without_ids():
    """A change naming a criterion the pack lacks is refused with the ids it has; one added without an id
    (refused later, when the pack is checked) is listed as "?" rather than breaking the message."""
    from smecluster.policy.reform import ReformError, apply_reform, reform_from_dict

    ids = ", ".join(c.id for top in load_pack("jiangsu-cluster-2023").criteria for c in top.walk())
    reform = reform_from_dict({"base": "jiangsu-cluster-2023",
                               "changes": [{"add": {"title": "无编号"}}, {"criterion": "J99", "threshold": 1}]})
    with pytest.raises(ReformError) as refused:
        apply_reform(reform)
    assert str(refused.value) == (f"reform: change 2 (J99: threshold=1): unknown criterion 'J99' in pack "
                                  f"jiangsu-cluster-2023; known: {ids}, ?")


def test_shipped_packs_are_read_from_their_kept_parse_and_user_packs_never(tmp_path, monkeypatch, request):
    """A shipped pack's checked parse is kept in the cache folder and read back next time; a pack file of the
    user's own folder is parsed every time and never kept."""
    import shutil

    from smecluster.policy import pack as pack_module
    from smecluster.policy.pack import PACK_DIR, load_pack_file

    monkeypatch.setenv("SMECLUSTER_CACHE_DIR", str(tmp_path / "cache"))
    # the kept parses of a folder are looked up once a process: look them up again in this cache folder, and
    # again after the test in the next test's
    pack_module._kept_parses.cache_clear()
    request.addfinalizer(pack_module._kept_parses.cache_clear)
    shipped = PACK_DIR / "jiangsu-cluster-2023.yaml"
    first = load_pack_file(shipped)
    kept = list((tmp_path / "cache" / "packs").glob("*.pickle"))
    assert len(kept) == 1
    user = tmp_path / "mine"
    user.mkdir()
    shutil.copy(shipped, user / shipped.name)
    assert load_pack_file(user / shipped.name) == first
    assert list((tmp_path / "cache" / "packs").glob("*.pickle")) == kept

    def no_parsing(path):
        raise AssertionError(f"parsed again: {path}")

    monkeypatch.setattr(pack_module, "_read_pack_file", no_parsing)
    assert load_pack_file(shipped) == first
    with pytest.raises(AssertionError, match="parsed again"):
        load_pack_file(user / shipped.name)


def test_an_indicator_column_names_its_parameters_unless_they_are_the_defaults():
    """sme_rd_cagr's catalogue default is 3 years: that column is plain; 5 years gets its own column."""
    from smecluster.policy.compile import indicator_column

    assert indicator_column("sme_rd_cagr") == indicator_column("sme_rd_cagr", {"years": 3}) == "sme_rd_cagr"
    assert indicator_column("sme_rd_cagr", {"years": 5}) == "sme_rd_cagr__years_5"


def test_one_line_tests_of_compositions_and_the_diff_counts():
    """A composition reads "any of" / "all of" its children (each alone makes it a composition), and the
    diff counts every kind of change (2022 -> 2026 SRDI: 26 criteria removed, 16 added, 2 changed)."""
    from smecluster.policy.diff import _test

    jiangsu = load_pack("jiangsu-cluster-2023")
    assert _test(jiangsu.criterion("J3")) == "all of J3a, J3b"
    assert _test(jiangsu.criterion("J4")) == "any of J4a, J4b"
    d = diff_packs(load_pack("srdi-sme-2022"), load_pack("srdi-sme-2026"))
    assert d["counts"] == {"added": 16, "removed": 26, "changed": 2}
    for kind in ("added", "removed", "changed"):
        assert d["counts"][kind] == sum(r["change"] == kind for r in d["criteria"])


# ---------------------------------------------------------------- survivors of the policy sample (seed 1600)


@pytest.mark.parametrize(("text", "change"), [
    ("parameters.review_note=x", {"parameter": "parameters.review_note", "value": "x"}),
    ("pass_rule.score_at_least=55", {"parameter": "pass_rule.score_at_least", "value": 55}),
    ("validity_years=2", {"parameter": "validity_years", "value": 2}),
    ("J9.remove=true", {"criterion": "J9", "remove": True}),
    ("J7.threshold=0.25", {"criterion": "J7", "threshold": 0.25}),
])
def test_set_reads_parameters_pass_rule_fields_and_criterion_edits(text, change):
    """`--set parameters.NAME=V` and `pass_rule.FIELD=V` set a pack parameter (not a criterion named
    "parameters"); ID.FIELD=V edits a criterion."""
    from smecluster.policy.reform import Change, parse_set

    assert parse_set(text) == Change(**change)


@pytest.mark.parametrize("text", ["J9.remove=false", "J9.remove=1"])
def test_set_remove_takes_only_true(text):
    """`ID.remove` is written `=true`: false or 1 is refused with the form to write, never read as a removal
    (pydantic would read 1 as true) or as a change saying nothing."""
    from smecluster.policy.reform import ReformError, parse_set

    with pytest.raises(ReformError) as refused:
        parse_set(text)
    assert str(refused.value) == f"--set {text!r}: write J9.remove=true"


def test_set_of_a_wrongly_typed_value_names_the_field_path():
    """A value of the wrong type is a ReformError naming the --set text and each problem by its dotted field
    path (bands.0.min), not a pydantic error."""
    from smecluster.policy.reform import ReformError, parse_set

    with pytest.raises(ReformError) as refused:
        parse_set("J7.bands=[{min: x}]")
    assert str(refused.value) == ("--set 'J7.bands=[{min: x}]': bands.0.points: Field required; "
                                  "bands.0.min: Input should be a valid number, unable to parse string as a number")


def test_a_reform_sets_a_pass_rule_field_and_adds_a_parameter():
    """pass_rule.score_at_least moves the pass score of the reformed pack only; parameters.NAME adds a
    parameter the base lacks."""
    from smecluster.policy.reform import apply_reform, reform_from_sets

    reformed = apply_reform(reform_from_sets("innovative-sme-2022",
                                             ["pass_rule.score_at_least=55", "parameters.review_note=x"]))
    assert reformed.pass_rule.score_at_least == 55
    assert reformed.parameters == {**load_pack("innovative-sme-2022").parameters, "review_note": "x"}
    assert load_pack("innovative-sme-2022").pass_rule.score_at_least == 60


def test_a_reform_naming_an_unknown_parameter_names_the_pack_and_the_known_ones():
    """NAME=V for a parameter the pack lacks is refused with the pack's id and the parameters it has."""
    from smecluster.policy.reform import ReformError, apply_reform, reform_from_sets

    known = ", ".join(load_pack("jiangsu-cluster-2023").parameters)
    with pytest.raises(ReformError) as refused:
        apply_reform(reform_from_sets("jiangsu-cluster-2023", ["nope=1"]))
    assert str(refused.value) == (f"reform: change 1 (nope = 1): pack jiangsu-cluster-2023 has no parameter "
                                  f"'nope'; known: {known} (write parameters.NAME to add one)")


def test_a_reformed_pack_keeps_its_evaluation_windows_as_written():
    """little-giant-2022 serves re-reviews past its end (effective_to: null) from its own start (not written
    in the window, so inherited): a reform of it keeps both, so it still serves a 2026 re-review and no 2026
    new application."""
    from smecluster.policy.reform import apply_reform, reform_from_sets

    base = load_pack("little-giant-2022")
    reformed = apply_reform(reform_from_sets("little-giant-2022", ["validity_years=2"]))
    assert reformed.window("review") == base.window("review")
    assert reformed.window("review").effective_from == dt.date(2022, 8, 1)
    assert reformed.serves("review", dt.date(2026, 6, 30)) and not reformed.serves("new", dt.date(2026, 6, 30))


def test_gap_texts_in_each_language_and_none_at_the_threshold():
    """A rank gap reads "No. 12 -> No. 10" in English and "第 12 名 → 第 10 名" in Chinese (each in its own
    language); the leading-industry gap names the subject's leading industries; a value exactly at its
    threshold owes nothing (no gap)."""
    from smecluster.policy.gaps import gap_text
    from smecluster.policy.pack import Criterion

    rank = Criterion(id="R", title="排名", indicator="national_rank", comparator="<=", threshold=10)
    assert gap_text(rank, 12, {}) == ("No. 12 -> No. 10", "第 12 名 → 第 10 名")
    assert gap_text(rank, 10, {}) == (None, None)
    giants = Criterion(id="G", title="小巨人", indicator="champions_little_giants_in_leading", comparator=">=",
                       threshold=3)
    assert gap_text(giants, 1, {"leading": "C39/C38"}) == (
        "2 more little giants or single champions in industry C39/C38",
        '主导产业 C39/C38 领域还需 2 家单项冠军或专精特新"小巨人"企业')
    assert gap_text(giants, 3, {"leading": "C39"}) == (None, None)


def test_a_gap_in_years_names_its_unit_once():
    """The niche-market gap says its unit once in each language (the value's format adds it; the
    sentence does not add it again: "2 years more", not "2 years more year(s)"; "还差 2 年", not "2 年 年")."""
    from smecluster.policy.gaps import gap_text
    from smecluster.policy.pack import Criterion

    niche = Criterion(id="N", title="细分市场年限", indicator="niche_years", comparator=">=", threshold=3)
    assert gap_text(niche, 1, {}) == ("in the niche market for 2 years more", "从事细分市场年限还差 2 年")


def test_a_composition_gap_lists_only_the_children_that_owe_something():
    """A failing "all" whose children are a failing leaf and a criterion not assessed by rule: the gap is the
    leaf's alone (the unassessed child has no gap to give)."""
    from smecluster.policy.evaluate import build_result
    from smecluster.policy.pack import Criterion

    leaf = Criterion(id="A1", title="成员", indicator="members", comparator=">=", threshold=10)
    open_ = Criterion(id="A2", title="其他", assessed=False)
    both = Criterion(id="A", title="全部", all=[leaf, open_])
    statuses = {"A": "fail", "A1": "fail", "A2": "not_assessed"}
    result = build_result(both, {"members": 8, "members__computed": 8}, statuses, {}, {})
    assert [ch.status for ch in result.children] == ["fail", "not_assessed"]
    assert (result.gap, result.gap_zh) == (result.children[0].gap, result.children[0].gap_zh)
    assert result.gap is not None and result.children[1].gap is None


def test_extend_marks_the_children_of_every_kind_of_composition_unverified(tmp_path):
    """inherited_unverified reaches the children of any, all, at_least+of and best_of alike."""
    import yaml

    from smecluster.policy.extend import extend

    criteria = [{"id": k.upper(), key: [{"id": f"{k.upper()}1"}]}
                for k, key in (("a", "any"), ("b", "all"), ("c", "of"), ("d", "best_of"))]
    (tmp_path / "root.yaml").write_text(yaml.safe_dump({"id": "root", "criteria": criteria}), encoding="utf-8")
    child = extend({"id": "child", "extends": "root", "inherited_unverified": True, "inherited_note": "旧"},
                   tmp_path)
    for top, (key, _) in zip(child["criteria"], (("any", 0), ("all", 0), ("of", 0), ("best_of", 0)), strict=True):
        assert top[key] == [{"id": f"{top['id']}1", "verified": False, "note": "旧"}], key


def test_held_rows_keeps_the_designations_valid_on_the_day():
    """On 2025-12-31: a 2024 little giant (3 years by default) counts, a 2021 one has lapsed, and a recorded end
    before the day wins over the derived one; a Polars and an Arrow frame give the same rows."""
    import polars as pl

    from smecluster.policy.validity import held_rows

    frame = pl.DataFrame({"uscc": ["a", "b", "c"], "kind": ["little_giant"] * 3, "year": [2024, 2021, 2024],
                          "valid_from": [None, None, None], "valid_until": [None, None, dt.date(2025, 6, 30)]},
                         schema_overrides={"valid_from": pl.Date, "valid_until": pl.Date})
    on = dt.date(2025, 12, 31)
    assert held_rows(frame, on)["uscc"].to_list() == ["a"]
    assert held_rows(frame.to_arrow(), on)["uscc"].to_list() == ["a"]
