"""One value formatter (smecluster.values) for verdict gaps, tier diagnoses, pages, dossiers and the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from smecluster.values import format_value

PACKAGE = Path(__file__).resolve().parents[1] / "smecluster"


@pytest.mark.parametrize(("value", "unit", "lang", "text"), [
    (None, "ratio", "zh", "—"),
    (0.3, "ratio", "zh", "30%"),
    (0.0999, "ratio", "en", "9.99%"),
    (0.125, "ratio", "zh", "12.5%"),
    (0.0000004, "ratio", "zh", "0.00004%"), (0.00004, "ratio", "zh", "0.004%"),
    (8000, "wan_yuan", "zh", "8,000 万元"),
    (400000, "wan_yuan", "zh", "40.00 亿元"),
    (400000, "wan_yuan", "en", "CNY 4.00 billion"),
    (8000, "wan_yuan", "en", "CNY 80.00 million"),
    (8000, "wan_yuan", "both", "8,000 万元"),
    (1234, "count", "zh", "1,234"),
    (3.0, "count", "en", "3"),
    (12.345, "km2", "zh", "12.35 km²"),
    (True, None, "zh", "是"), (False, "bool", "en", "no"), (True, "bool", "both", "是 / yes"),
    (2, "rank", "zh", "第 2 名"), (9999, "rank", "en", "none"),
    (3, "years", "zh", "3 年"), (2.5, "years", "en", "2.5 years"),
    (3841, "code", "zh", "3841"),
    (72.5, None, "zh", "72.5"), (1234.567, None, "zh", "1,234.57"), (0.01234, None, "en", "0.01234"),
])
def test_one_rule_per_unit(value, unit, lang, text):
    assert format_value(value, unit, lang=lang) == text


def test_plain_leaves_the_unit_to_the_header_and_missing_has_the_callers_word():
    assert format_value(8000.5, "wan_yuan", plain=True) == "8,000.5"
    assert format_value(12.345, "km2", plain=True) == "12.35"
    assert format_value(None, "count", missing="未填报") == "未填报"


def test_every_formatter_is_this_one():
    """The verdict gaps, tier diagnoses, template filter, dossier sections and CLI all call
    smecluster.values.format_value; no module keeps a formatter of its own by unit (a function that
    tests `unit == "ratio"` outside values.py)."""
    from smecluster.analytics import tier_gaps
    from smecluster.policy import gaps
    from smecluster.reports import sections
    from smecluster.web.formatting import filters

    assert gaps.format_value is format_value
    assert tier_gaps.fmt(0.3, "ratio") == sections.fmt(0.3, "ratio") == filters("zh")["value"](0.3, "ratio") \
        == format_value(0.3, "ratio") == "30%"
    assert tier_gaps.fmt(None, "ratio") == "未填报 / not reported"
    own = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "values.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                body = ast.unparse(node)
                if "unit == 'ratio'" in body and "'wan_yuan'" in body:
                    own.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert own == []


def test_bilingual_titles_show_the_pages_half():
    from smecluster.web.formatting import title_in

    assert title_in("上云比例 / cloud adoption", "zh") == "上云比例"
    assert title_in("上云比例 / cloud adoption", "en") == "cloud adoption"
    assert title_in('其他条件（"等等"）/ further conditions', "zh") == '其他条件（"等等"）'
    assert title_in("营业收入1000万元以上", "en") == "营业收入1000万元以上"
    assert title_in("1/2 的企业", "zh") == "1/2 的企业"
