"""Tables in an 80-column terminal or a pipe print every value whole: no ellipsis, no cut code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from import_support import CODE_A, registry_engine, write_csv
from rich.console import Console

from smecluster.cli.common import new_table, print_table
from smecluster.db import open_database
from smecluster.demo.generator import generate
from smecluster.demo.writer import write_demo
from smecluster.labels import WORDS

ELLIPSIS = "…"


def _run(*args: str, columns: str | None = "80") -> str:
    """The command's output through a pipe (not a terminal), with COLUMNS set when given."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = columns
    cmd = [sys.executable, "-m", "smecluster.cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("widths") / "demo.db"
    write_demo(open_database(f"sqlite:///{path}"), generate(seed=5, scale=0.02, year=2025))
    return str(path)


@pytest.mark.parametrize("columns", ["80", None])
def test_tier_lists_print_whole_codes_and_names(demo_db, columns):
    """`evaluate enterprises` in 80 columns or a bare pipe shows each listed firm's full code and name."""
    listed = json.loads(_run("--db", demo_db, "evaluate", "enterprises", "--format", "json"))
    text = _run("--db", demo_db, "evaluate", "enterprises", columns=columns)
    assert ELLIPSIS not in text
    firms = [r for rows in listed["lists"].values() for r in rows[:15]]
    assert firms
    for firm in firms:
        assert firm["uscc"] in text and firm["name"] in text.replace("\n", ""), firm


def test_cluster_verdicts_print_whole_names_and_outcomes(demo_db):
    """`evaluate cluster --all` in 80 columns: every cluster's name, criterion id and outcome whole."""
    verdicts = json.loads(_run("--db", demo_db, "evaluate", "cluster", "--all", "--format", "json"))
    text = _run("--db", demo_db, "--lang", "zh", "evaluate", "cluster", "--all")
    assert ELLIPSIS not in text
    flat = text.replace("\n", "")
    for v in verdicts:  # the words of the default language (Chinese), whole
        assert WORDS[v["outcome"]][0] in text and v["cluster"]["name"] in flat
        for c in v["criteria"]:
            assert c["id"] in text and WORDS[c["status"]][0] in text


def test_narrow_table_falls_back_to_one_block_per_row():
    """When the whole-value columns cannot fit, each row prints as header: value lines, uncut."""
    table = new_table("uscc", "name", "a", "b", "c", keep=("uscc", "a", "b", "c"))
    long = "x" * 30
    table.add_row(CODE_A, "溧阳市某某电池材料科技有限公司第二分公司", long, long, long)
    out = Console(width=80, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    print_table(table, out)
    text = out.export_text()
    assert f"uscc: {CODE_A}" in text and f"a: {long}" in text and ELLIPSIS not in text


def test_import_problems_show_whole_values(tmp_path):
    """The problem table of an import keeps long values and reasons whole in 80 columns."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    registry_engine(url)
    name = "甲" * 201
    path = write_csv(tmp_path / "e.csv", ["统一社会信用代码", "企业名称", "所在县区代码", "行业代码"],
                     [[CODE_A, name, "320481", "3841"]])
    env = dict(os.environ, COLUMNS="80")
    cmd = [sys.executable, "-m", "smecluster.cli.main", "--db", url, "import", "enterprises", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert ELLIPSIS not in done.stderr
    assert done.stderr.count("甲") == len(name)  # folded over lines, every character there
    assert "longer than 200 characters" in done.stderr
