"""`smecluster policy test|validate|list|show` as the docs give them, and the PDF diagnosis report read back."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from smecluster.cli import common
from smecluster.cli.main import app

SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables wide enough that no cell is cut, so ids can be read in the output."""
    monkeypatch.setattr(common.console, "width", 400)
    monkeypatch.setattr(common.err_console, "width", 400)


class _Run:
    """A CLI run: exit code and output with Rich's line wrapping undone."""

    def __init__(self, args: list[str]) -> None:
        result = CliRunner().invoke(app, args)
        self.exit_code, self.exception = result.exit_code, result.exception
        self.output = " ".join(result.output.split()).replace("/ ", "/")


def _run(*args: str) -> _Run:
    return _Run(list(args))


def test_policy_test_over_the_tiers_folder_glob_skips_bases():
    """`policy test tests/scenarios/tiers/*.yaml` (the documented command) skips bases.yaml and passes."""
    files = sorted(str(p) for p in (SCENARIOS / "tiers").glob("*.yaml"))
    assert any(f.endswith("bases.yaml") for f in files)
    result = _run("policy", "test", *files)
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "bases.yaml" in result.output
    assert " 0 failed" in result.output
    assert "Traceback" not in result.output


def test_policy_test_names_a_file_that_is_not_a_scenario(tmp_path):
    """A YAML mapping with neither `pack` nor a list of cases is a clear error naming the file; exit 1."""
    bad = tmp_path / "notes.yaml"
    bad.write_text("strong: {revenue: 1}\n", encoding="utf-8")
    result = _run("policy", "test", str(bad))
    assert result.exit_code == 1
    assert "notes.yaml" in result.output and "not a scenario file" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_policy_test_names_the_line_of_a_file_that_is_not_valid_yaml(tmp_path):
    """Broken YAML is a clear error naming the file and the line where it breaks (no traceback); exit 1."""
    bad = tmp_path / "broken.yaml"
    bad.write_text("pack: jiangsu-cluster-2023\ncases: [1\n", encoding="utf-8")
    result = _run("policy", "test", str(bad))
    assert result.exit_code == 1
    assert "broken.yaml" in result.output and "invalid YAML at line 3" in result.output, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_policy_test_refuses_a_file_that_is_not_utf8(tmp_path):
    """A scenario saved in GB18030 is refused as not UTF-8 text, naming the file; exit 1."""
    bad = tmp_path / "gbk.yaml"
    bad.write_bytes("- name: 集群\n".encode("gb18030"))
    result = _run("policy", "test", str(bad))
    assert result.exit_code == 1
    assert "gbk.yaml" in result.output and "not UTF-8" in result.output, result.output
    assert isinstance(result.exception, SystemExit)


def test_policy_test_with_only_base_firms_runs_nothing_and_fails():
    """Given only bases.yaml (no scenario), the command says nothing was run and exits 1."""
    result = _run("policy", "test", str(SCENARIOS / "tiers" / "bases.yaml"))
    assert result.exit_code == 1
    assert "no scenario was run" in result.output


def test_a_broken_bases_file_is_named_when_a_tier_scenario_reads_it(tmp_path):
    """A tier scenario whose folder's bases.yaml is broken names bases.yaml, not a traceback; exit 1."""
    (tmp_path / "bases.yaml").write_text("strong: {revenue: [1\n", encoding="utf-8")
    case = tmp_path / "case.yaml"
    case.write_text("- name: x\n  base: strong\n", encoding="utf-8")
    result = _run("policy", "test", str(case))
    assert result.exit_code == 1
    assert "bases.yaml" in result.output and "invalid YAML" in result.output, result.output
    assert isinstance(result.exception, SystemExit)


def test_a_bad_file_among_good_ones_still_fails_the_run(tmp_path):
    """Good files run, but one bad file makes the exit code non-zero."""
    bad = tmp_path / "list-of-words.yaml"
    bad.write_text("- one\n- two\n", encoding="utf-8")
    good = sorted(str(p) for p in (SCENARIOS / "clusters").glob("*.yaml"))
    result = _run("policy", "test", *good, str(bad))
    assert result.exit_code == 1
    assert "list-of-words.yaml" in result.output and "1 bad files" in result.output


def test_cluster_pack_file_with_cases_not_a_list(tmp_path):
    """`cases` that is not a list of cases is refused with the reason."""
    bad = tmp_path / "c.yaml"
    bad.write_text("pack: jiangsu-cluster-2023\ncases: {a: 1}\n", encoding="utf-8")
    result = _run("policy", "test", str(bad))
    assert result.exit_code == 1 and "'cases' must be a list" in result.output


def test_failing_case_exits_one(tmp_path):
    """A case whose expectation is wrong exits 1 and prints FAIL with the case name."""
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "pack: jiangsu-cluster-2023\ncases:\n  - name: ten percent\n    input: {sme_rd_cagr: 0.10}\n"
        "    expect: {J6: fail}\n", encoding="utf-8")
    result = _run("policy", "test", str(path))
    assert result.exit_code == 1
    assert "FAIL" in result.output and "ten percent" in result.output and "0 passed, 1 failed" in result.output


def test_policy_validate_shipped_packs_ok():
    """`policy validate` with no file checks every shipped pack and says ok for each."""
    from smecluster.policy.pack import pack_files

    result = _run("policy", "validate")
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == len(pack_files()) > 0


def test_policy_validate_bad_pack_exits_one(tmp_path):
    """A pack whose boundary word contradicts its comparator is an error with exit code 1."""
    import yaml

    from smecluster.policy.pack import pack_files

    src = next(p for p in pack_files() if p.stem == "jiangsu-cluster-2023")
    raw = yaml.safe_load(src.read_text(encoding="utf-8"))
    crit = next(c for c in raw["criteria"] if c.get("comparator") == ">=")
    crit["comparator"] = ">"  # 不低于 includes the number: '>' contradicts the text
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = _run("policy", "validate", str(src), str(bad))
    assert result.exit_code == 1
    assert "ok " in result.output and "error" in result.output


def test_policy_validate_names_a_pack_not_saved_as_utf8(tmp_path):
    """A pack saved in GB18030 (as Windows editors in China often do) is an error naming the file; exit 1."""
    from smecluster.policy.pack import pack_files

    src = next(p for p in pack_files() if p.stem == "jiangsu-cluster-2023")
    bad = tmp_path / "gbk-pack.yaml"
    bad.write_bytes(src.read_text(encoding="utf-8").encode("gb18030"))
    result = _run("policy", "validate", str(bad))
    assert result.exit_code == 1
    assert "gbk-pack.yaml" in result.output and "not UTF-8" in result.output, result.output
    assert isinstance(result.exception, SystemExit)


def test_policy_list_names_every_pack():
    """`policy list` prints one row per shipped pack with its id."""
    from smecluster.policy.pack import pack_files

    result = _run("policy", "list")
    assert result.exit_code == 0
    for path in pack_files():
        assert path.stem in result.output


def test_policy_show_prints_criteria_and_marks():
    """`policy show jiangsu-cluster-2023` lists its criteria (J1..J7) with the threshold test."""
    result = _run("policy", "show", "jiangsu-cluster-2023")
    assert result.exit_code == 0
    for cid in ("J1", "J4", "J5", "J6", "J7"):
        assert cid in result.output
    assert ">= 5" in result.output  # J5: at least 5 platforms (POLICY.md)


def test_policy_show_unknown_pack_is_an_error():
    """An unknown pack id exits non-zero with an error message, no traceback."""
    result = _run("policy", "show", "no-such-pack")
    assert result.exit_code != 0
    assert "error" in result.output.lower()
