"""Printed tables speak the chosen language (--lang, else the locale, else Chinese); JSON keeps codes."""

from __future__ import annotations

import json

import pytest
from builders import YEAR, RegistryBuilder
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.labels import WORDS, resolve_lang

# The web pages' message ids for the same codes (templates/_macros.html, enterprises/diagnosis.html).
WEB_MSGIDS = {"recognised": "Recognised", "not_recognised": "Not recognised", "insufficient_data": "Insufficient data",
              "pass": "pass", "fail": "fail", "warn": "warn", "unknown": "unknown", "not_assessed": "not assessed",
              "qualifies": "qualifies", "does_not_qualify": "does not qualify"}


@pytest.fixture
def registry(tmp_path):
    builder = RegistryBuilder(open_database(f"sqlite:///{tmp_path / 'r.db'}"))
    builder.on_cloud(2)  # 10% on the cloud: J7 (30%) fails
    builder.build()
    return str(builder.engine.url)


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_cluster_table_in_chinese_and_english_json_keeps_codes(registry):
    verdict = json.loads(_run("--db", registry, "--lang", "zh", "evaluate", "cluster", "1", "--year", str(YEAR),
                              "--format", "json"))
    assert verdict["outcome"] == "not_recognised"  # codes in JSON whatever the language
    statuses = {c["status"] for c in verdict["criteria"]}
    assert {"pass", "fail"} <= statuses
    zh = _run("--db", registry, "--lang", "zh", "evaluate", "cluster", "1", "--year", str(YEAR))
    assert "未达认定条件" in zh and "not_recognised" not in zh
    assert "满足" in zh and "未满足" in zh and " pass " not in zh and "状态" in zh
    en = _run("--db", registry, "--lang", "en", "evaluate", "cluster", "1", "--year", str(YEAR))
    assert "not recognised" in en and "未达认定条件" not in en and "status" in en


def test_language_from_option_environment_and_locale(monkeypatch):
    for var in ("SMECLUSTER_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert resolve_lang() == "zh"  # Chinese first
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert resolve_lang() == "en"
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert resolve_lang() == "zh"  # LC_ALL before LANG
    monkeypatch.setenv("SMECLUSTER_LANG", "en")
    assert resolve_lang() == "en" and resolve_lang("zh") == "zh"
    with pytest.raises(ValueError, match="zh or en"):
        resolve_lang("fr")


def test_words_match_the_web_pages():
    """The command line and the pages say the same Chinese word for a code."""
    from smecluster.web.i18n import translations

    zh = translations("zh")
    assert {code: zh.gettext(msgid) for code, msgid in WEB_MSGIDS.items()} == {
        code: WORDS[code][0] for code in WEB_MSGIDS}
