"""What-if: reforms as data, pack diff, cluster and tier simulations (and that nothing is written)."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import duckdb
import polars as pl
import pytest
from builders import YEAR, RegistryBuilder
from sqlalchemy import inspect, text
from tier_helpers import BASES, facts
from typer.testing import CliRunner

from smecluster.analytics.enterprise_facts import build_facts
from smecluster.analytics.simulate_query import compile_tier_pairs
from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.demo.generator import generate
from smecluster.demo.tier_profiles import tier_profiles
from smecluster.policy.diff import diff_packs
from smecluster.policy.pack import load_pack
from smecluster.policy.reform import ReformError, apply_reform, load_reform, parse_set, reform_from_sets
from smecluster.services.clusters import evaluate_clusters
from smecluster.services.simulate import (
    scenario_from_packs,
    scenario_from_reform,
    simulate_clusters,
    simulate_enterprises,
    simulate_tier_facts,
)
from smecluster.services.tiers import evaluate_facts

ON_2026 = date(2026, 6, 30)  # the 2026 SRDI pack applies to new applications
HOLDER = BASES["holder"]  # meets every rule of the 2026 packs
KEYS = ("uscc", "county_code", "industry_code")


def _sets(pack: str, *sets: str):
    return scenario_from_reform(reform_from_sets(pack, list(sets)))


# ---------------------------------------------------------------- reforms as data


def test_set_changes_a_copy_never_the_shipped_pack():
    """--set J7.threshold=0.25 changes the reformed pack; the loaded pack keeps 0.3."""
    reformed = apply_reform(reform_from_sets("jiangsu-cluster-2023", ["J7.threshold=0.25"]))
    assert reformed.criterion("J7").threshold == 0.25
    assert load_pack("jiangsu-cluster-2023").criterion("J7").threshold == 0.3
    assert reformed.criterion("J7").boundary_word == "不低于" and reformed.version.endswith("+set")


def test_remove_add_and_parameter():
    """A criterion removed, one added under a composition, and validity_years set."""
    reformed = apply_reform(reform_from_sets("jiangsu-cluster-2023", ["J9.remove=true", "validity_years=2"]))
    assert "J9" not in [c.id for c in reformed.all_criteria()] and reformed.parameters["validity_years"] == 2
    raw = {"base": "jiangsu-cluster-2023", "changes": [{"parent": "J4", "add": {
        "id": "J4c", "title": "platforms", "indicator": "provincial_platforms", "comparator": ">=",
        "boundary_word": "不少于", "threshold": 8}}]}
    from smecluster.policy.reform import reform_from_dict

    added = apply_reform(reform_from_dict(raw))
    assert [k.id for k in added.criterion("J4").children()] == ["J4a", "J4b", "J4c"]


@pytest.mark.parametrize(("sets", "message"), [
    (["J99.threshold=1"], "unknown criterion 'J99'"),
    (["J2.boundary_word=超过"], "超过 means >, not <="),  # a boundary word contradicting the comparator
    (["J7.comparator=>"], "不低于 means >=, not >"),  # a comparator contradicting the boundary word
    (["J7.threshold=true"], "threshold must be a number"),
    (["J7.weight=1"], "'weight' cannot be set"),
    (["nope=1"], "has no parameter 'nope'"),
])
def test_a_reform_is_checked_like_a_pack(sets, message):
    """Boundary words, comparators, threshold types and unknown ids are clear errors."""
    with pytest.raises(ReformError, match=message):
        apply_reform(reform_from_sets("jiangsu-cluster-2023", sets))


def test_comparator_with_its_boundary_word_is_accepted():
    """Changing 不超过 (<=) to 不满 (<) together is a valid reform."""
    reformed = apply_reform(reform_from_sets("jiangsu-cluster-2023", ["J2.comparator=<", "J2.boundary_word=不满"]))
    assert (reformed.criterion("J2").comparator, reformed.criterion("J2").boundary_word) == ("<", "不满")


def test_reform_file_errors_name_the_file(tmp_path):
    """A reform file with an unknown key is refused with the file named."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: jiangsu-cluster-2023\nchanges:\n  - {criterion: J7, threshhold: 0.25}\n", encoding="utf-8")
    with pytest.raises(ReformError, match="bad.yaml"):
        load_reform(bad)
    with pytest.raises(ReformError, match="write ID.FIELD=VALUE"):
        parse_set("J7.threshold")


# ---------------------------------------------------------------- pack diff


def test_diff_2022_2026_srdi_pairs_renumbered_tests_with_both_clauses():
    """S-B1 (niche 2 years) became S6-2 (3 years): one changed row with both thresholds and clauses."""
    d = diff_packs(load_pack("srdi-sme-2022"), load_pack("srdi-sme-2026"))
    row = next(r for r in d["criteria"] if r["id"] == "S-B1 → S6-2")
    assert (row["a"]["threshold"], row["b"]["threshold"]) == (2, 3)
    assert "2年" in row["clause_a"] and "3年" in row["clause_b"]
    removed = {r["id"] for r in d["criteria"] if r["change"] == "removed"}
    assert {"S-D2", "S-S1"} <= removed and d["pass_rule"]["a"]["score_at_least"] == 60


def test_diff_of_a_reform_lists_only_what_changed():
    """A pack and its reform differ in the one criterion the reform moved."""
    s = _sets("jiangsu-cluster-2023", "J7.threshold=0.25")
    d = s.diff()
    assert [(r["id"], r["fields"]) for r in d["criteria"]] == [("J7", ["threshold"])]
    assert d["criteria"][0]["a"]["threshold"] == 0.3 and d["criteria"][0]["b"]["threshold"] == 0.25


# ---------------------------------------------------------------- tiers


def _firms(scores: list[float]) -> pl.DataFrame:
    return facts(*[{**HOLDER, "srdi_eval_score": s} for s in scores])


def test_unchanged_reform_gives_exactly_the_baseline():
    """Setting a threshold to its own value: both sides equal each other and the real evaluation."""
    f = _firms([45.0, 55.0, 72.0])
    base = load_pack("srdi-sme-2026").for_evaluation("new", ON_2026)
    same = apply_reform(reform_from_sets("srdi-sme-2026", ["S6-9.threshold=50"])).for_evaluation("new", ON_2026)
    con = duckdb.connect()
    con.register("facts", f.to_arrow())
    got = con.sql(compile_tier_pairs([(base, same)])).pl()
    real = evaluate_facts(f, 2025, ON_2026, "srdi_sme", keys=KEYS).frame()
    assert got["a__srdi_sme__outcome"].to_list() == got["b__srdi_sme__outcome"].to_list()
    assert got["a__srdi_sme__outcome"].to_list() == real["srdi_sme__outcome"].to_list()
    sim = simulate_tier_facts(f, _sets("srdi-sme-2026", "S6-9.threshold=50"), 2025, ON_2026)
    assert (sim.summary["gained"], sim.summary["lost"]) == (0, 0)
    assert sim.summary["qualifies_baseline"] == sim.summary["qualifies_reformed"] == 2


def test_threshold_moved_across_one_firm_flips_it_and_only_it():
    """Scores 45, 55, 72 against the 50 bar: at 60 only the 55 firm loses; at 40 only the 45 firm gains."""
    f = _firms([45.0, 55.0, 72.0])
    up = simulate_tier_facts(f, _sets("srdi-sme-2026", "S6-9.threshold=60"), 2025, ON_2026)
    assert up.firms["uscc"].to_list() == [f["uscc"][1]] and up.firms["change"].to_list() == ["loses"]
    assert (up.summary["gained"], up.summary["lost"], up.summary["qualifies_reformed"]) == (0, 1, 1)
    down = simulate_tier_facts(f, _sets("srdi-sme-2026", "S6-9.threshold=40"), 2025, ON_2026)
    assert down.firms["uscc"].to_list() == [f["uscc"][0]] and down.firms["change"].to_list() == ["gains"]
    assert down.by_county.to_dicts()[0]["gained"] == 1 and down.by_industry["gained"].to_list() == [1]


def test_boundary_value_stays_with_its_boundary_word():
    """A firm exactly at the new bar keeps qualifying under 以上 (>=), and loses under 超过 (>)."""
    f = _firms([60.0])
    keep = simulate_tier_facts(f, _sets("srdi-sme-2026", "S6-9.threshold=60"), 2025, ON_2026)
    assert keep.summary["lost"] == 0
    strict = simulate_tier_facts(
        f, _sets("srdi-sme-2026", "S6-9.threshold=60", "S6-9.comparator=>", "S6-9.boundary_word=超过"), 2025, ON_2026)
    assert strict.summary["lost"] == 1


@pytest.fixture(scope="module")
def demo_facts():
    """A small demo registry's facts, built for a date when the 2026 packs apply."""
    data = generate(scale=0.3)
    profiles = tier_profiles(data.enterprise, data.enterprise_year, data.designation, data.year)
    return data.year, build_facts(data.enterprise, data.enterprise_year, profiles, data.designation, data.year, ON_2026)


def test_2022_vs_2026_on_the_demo(demo_facts):
    """Comparing the SRDI packs: each side counts what the real evaluation under that pack counts,
    and gains minus losses is the difference."""
    year, f = demo_facts
    sim = simulate_tier_facts(f, scenario_from_packs("srdi-sme-2022", "srdi-sme-2026"), year, ON_2026)
    old = evaluate_facts(f, year, date(2025, 12, 31), "srdi_sme", keys=KEYS).frame()  # the 2022 pack's date
    new = evaluate_facts(f, year, ON_2026, "srdi_sme", keys=KEYS).frame()
    s = sim.summary
    assert s["qualifies_baseline"] == (old["srdi_sme__outcome"] >= 2).sum()
    assert s["qualifies_reformed"] == (new["srdi_sme__outcome"] >= 2).sum()
    assert s["gained"] - s["lost"] == s["qualifies_reformed"] - s["qualifies_baseline"] and s["lost"] > 0
    assert sim.by_county["lost"].sum() == s["lost"] and sim.by_industry["gained"].sum() == s["gained"]


def test_compare_needs_packs_of_one_tier():
    """Comparing an SRDI pack with a little-giant pack is refused."""
    with pytest.raises(ReformError, match="same kind and tier"):
        scenario_from_packs("srdi-sme-2022", "little-giant-2026")


# ---------------------------------------------------------------- stored registry (SQLite and PostgreSQL)


def _fingerprint(engine) -> dict[str, tuple[int, str]]:
    """Row count and content hash of every table."""
    out = {}
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).fetchall()
            digest = hashlib.sha256("\n".join(sorted(map(repr, rows))).encode()).hexdigest()
            out[name] = (len(rows), digest)
    return out


@pytest.fixture
def cluster_registry(database_url):
    """One cluster meeting every condition, 6 of 20 members on the cloud (30%: J7 just met), its area declared."""
    builder = RegistryBuilder(open_database(database_url))
    builder.on_cloud(6)
    builder.designate("srdi_sme", 15)
    builder.declared = {"footprint_km2": 50}  # the footprint comes from the application, as it may
    builder.build()
    return builder.engine


def test_cluster_reform_flips_the_outcome_and_names_the_criterion(cluster_registry):
    """J7 at 35% turns the recognised cluster down, J7 named as the criterion that changed; the
    unchanged reform gives the real evaluation's outcome."""
    (verdict,) = evaluate_clusters(cluster_registry, year=YEAR)
    assert verdict.outcome == "recognised"
    same = simulate_clusters(cluster_registry, _sets("jiangsu-cluster-2023", "J7.threshold=0.3"), YEAR)
    row = same.clusters.row(0, named=True)
    assert (row["baseline"], row["reformed"], row["criteria_changed"]) == ("recognised", "recognised", "")
    up = simulate_clusters(cluster_registry, _sets("jiangsu-cluster-2023", "J7.threshold=0.35"), YEAR)
    row = up.clusters.row(0, named=True)
    assert (row["baseline"], row["reformed"], row["lost"], row["criteria_changed"]) == (
        "recognised", "not_recognised", True, "J7")
    assert up.by_city.row(0, named=True)["lost"] == 1 and up.by_city["city_code"].to_list() == ["320400"]


def test_simulations_never_write(cluster_registry):
    """Every table has the same rows before and after cluster and tier simulations."""
    before = _fingerprint(cluster_registry)
    simulate_clusters(cluster_registry, _sets("jiangsu-cluster-2023", "J7.threshold=0.35"), YEAR)
    simulate_enterprises(cluster_registry, scenario_from_packs("srdi-sme-2022", "srdi-sme-2026"), YEAR, ON_2026)
    runner = CliRunner()
    url = str(cluster_registry.url.render_as_string(hide_password=False))
    result = runner.invoke(app, ["--db", url, "simulate", "clusters", "--set", "J7.threshold=0.35",
                                 "--pack", "jiangsu-cluster-2023", "--year", str(YEAR), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["lost"] == 1
    assert _fingerprint(cluster_registry) == before


def test_enterprise_simulation_reports_the_srdi_target(cluster_registry):
    """From the registry, the simulation reports the targets pack's SRDI target (and only targets
    counting that tier), with the baseline figures of target_progress."""
    from smecluster.services.targets import target_progress

    sim = simulate_enterprises(cluster_registry, _sets("srdi-sme-2026", "S6-2.threshold=50"), YEAR, ON_2026)
    progress = {t["id"]: t for t in target_progress(cluster_registry, until=YEAR)["targets"]}
    assert [t["id"] for t in sim.targets] == ["T-SRDI"]
    assert sim.targets[0]["current"] == progress["T-SRDI"]["current"]


def test_validity_reform_changes_which_designations_count(cluster_registry):
    """Three SRDI titles of 1 July 2023 with no recorded end last 3 years under srdi-sme-2022 (to
    30 June 2026): at 2 years they no longer count on 30 June 2026, and the SRDI target drops by 3. A
    title with a recorded end is untouched, and a 2026 pack's period never reaches a 2023 title."""
    from sqlalchemy import insert

    from smecluster.registry.models import Designation

    with cluster_registry.connect() as conn:  # members without a title (the fixture gives 15 one)
        free = [r[0] for r in conn.execute(text(
            "SELECT uscc FROM enterprise WHERE uscc NOT IN (SELECT uscc FROM designation) ORDER BY uscc"))]
    derived, recorded = free[:3], free[3]
    with cluster_registry.begin() as conn:
        conn.execute(insert(Designation), [
            {"uscc": u, "kind": "srdi_sme", "year": 2023, "valid_from": date(2023, 7, 1), "valid_until": None}
            for u in derived] + [{"uscc": recorded, "kind": "srdi_sme", "year": 2023, "valid_from": date(2023, 7, 1),
                                  "valid_until": date(2026, 12, 31)}])
    short = simulate_enterprises(cluster_registry, _sets("srdi-sme-2022", "validity_years=2"), YEAR, ON_2026)
    assert (short.summary["held_baseline"], short.summary["held_reformed"]) == (15 + 4, 15 + 1)
    assert sorted(short.firms.filter(pl.col("change") == "expires")["uscc"].to_list()) == sorted(derived)
    (target,) = short.targets
    assert (target["expires"], target["current_reformed"]) == (3, target["current"] - 3)
    later = simulate_enterprises(cluster_registry, _sets("srdi-sme-2026", "validity_years=2"), YEAR, ON_2026)
    assert later.summary["held_reformed"] == later.summary["held_baseline"] == 15 + 4
    assert later.firms.filter(pl.col("change").is_in(["expires", "extends"])).is_empty()


def test_reformed_periods_replace_only_the_reformed_pack_period():
    """The reformed tier's period from the pack's date is replaced; older periods and other kinds stay."""
    from smecluster.policy.validity import reformed_periods, validity_periods

    base = load_pack("srdi-sme-2022")
    assert reformed_periods(base, base) is None
    periods = reformed_periods(base, apply_reform(reform_from_sets("srdi-sme-2022", ["validity_years=2"])))
    srdi = [p for p in periods if p[0] == "srdi_sme"]
    assert srdi[0] == ("srdi_sme", date(2026, 4, 1), 3) and srdi[1] == ("srdi_sme", date(2022, 8, 1), 2)
    assert [p for p in periods if p[0] != "srdi_sme"] == [p for p in validity_periods() if p[0] != "srdi_sme"]


def test_target_effect_moves_count_and_projection_within_scope():
    """Two firms of county 320102 lose the title: a province-wide target drops by 2 now and at the
    deadline; a target scoped to another city is unchanged; a target of another tier is not listed."""
    from smecluster.services.simulate import target_effects

    sim = simulate_tier_facts(_firms([55.0, 56.0, 72.0]), _sets("srdi-sme-2026", "S6-9.threshold=60"), 2025, ON_2026)
    base = {"title": "t", "measure": "designated:srdi_sme", "current": 100, "value": 150.0, "deadline": "2027-12-31",
            "projection": {"at_deadline": 151.0}, "met": False, "on_track": True, "share_of_target": 0.5,
            "comparator": ">="}
    progress = {"targets": [{**base, "id": "P", "scope": "32"}, {**base, "id": "C", "scope": "3204"},
                            {**base, "id": "I", "scope": "32", "measure": "designated:innovative_sme"}]}
    got = {t["id"]: t for t in target_effects(progress, sim)}
    assert set(got) == {"P", "C"}
    assert (got["P"]["current_reformed"], got["P"]["projection_reformed"], got["P"]["lost"]) == (98, 149.0, 2)
    assert got["P"]["on_track_reformed"] is False and got["C"]["on_track_reformed"] is True
    assert (got["C"]["current_reformed"], got["C"]["projection_reformed"]) == (100, 151.0)


def test_cli_errors_are_clear(database_url):
    """Unknown criterion and a missing --pack are reported, nothing run."""
    runner = CliRunner()
    r = runner.invoke(app, ["--db", database_url, "simulate", "clusters", "--set", "J99.threshold=1",
                            "--pack", "jiangsu-cluster-2023"])
    assert r.exit_code == 1 and "unknown criterion 'J99'" in r.output
    r = runner.invoke(app, ["--db", database_url, "simulate", "enterprises", "--set", "S6-9.threshold=60"])
    assert r.exit_code == 1 and "--set needs --pack" in r.output


def test_cli_policy_diff_json():
    """`policy diff` prints the changed criterion with both tests."""
    r = CliRunner().invoke(app, ["policy", "diff", "srdi-sme-2022", "srdi-sme-2026", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {x["id"]: x for x in json.loads(r.output)["criteria"]}
    assert rows["S-B3a → S6-3a"]["test_a"] == "revenue >= 1000" and rows["S-B3a → S6-3a"]["test_b"] == "revenue >= 1500"


def test_shipped_reform_examples_apply():
    """Every example reform shipped with the product applies to its base pack and changes something."""
    from smecluster.policy.reform import REFORM_DIR

    files = sorted(REFORM_DIR.glob("*.yaml"))
    assert files
    for path in files:
        reform = load_reform(path)
        reformed = apply_reform(reform)
        assert diff_packs(load_pack(reform.base), reformed)["criteria"], path


def test_cli_reform_file_and_compare(cluster_registry, tmp_path):
    """`simulate clusters --reform` runs a reform file (a different --pack is refused); `simulate
    enterprises --compare` compares two editions; xlsx writes the sheets."""
    from openpyxl import load_workbook

    from smecluster.policy.reform import REFORM_DIR

    url = cluster_registry.url.render_as_string(hide_password=False)
    runner = CliRunner()
    reform = str(REFORM_DIR / "cloud-25.yaml")
    r = runner.invoke(app, ["--db", url, "simulate", "clusters", "--reform", reform, "--year", str(YEAR),
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["changes"] == ["J7: threshold=0.25"]
    r = runner.invoke(app, ["--db", url, "simulate", "clusters", "--reform", reform, "--pack", "miit-cluster-2022"])
    assert r.exit_code == 1 and "base is jiangsu-cluster-2023, not --pack" in " ".join(r.output.split())
    out = tmp_path / "sim.xlsx"
    r = runner.invoke(app, ["--db", url, "simulate", "enterprises", "--compare", "srdi-sme-2022", "--compare",
                            "srdi-sme-2026", "--year", str(YEAR), "--on", "2026-06-30", "--format", "xlsx",
                            "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert {"summary", "by_county", "by_industry", "firms", "targets"} <= set(load_workbook(out).sheetnames)


def test_xlsx_text_is_never_a_formula(tmp_path):
    """A text starting with = is written as text (a leading apostrophe), not run as a formula."""
    from openpyxl import load_workbook

    from smecluster.reports.simulate_export import write_xlsx

    path = write_xlsx(tmp_path / "x.xlsx", {"s": pl.DataFrame({"name": ["=HYPERLINK(\"x\")", "ok"]})})
    cells = [c.value for c in load_workbook(path)["s"]["A"]]
    assert cells == ["name", "'=HYPERLINK(\"x\")", "ok"]
