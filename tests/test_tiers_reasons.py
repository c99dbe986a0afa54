"""The batch JSON (`evaluate enterprises --format json`) says, per firm and tier, why it does not qualify
in words of the chosen language beside the criteria codes, with each score group's minimum beside its score."""

from __future__ import annotations

import json
from datetime import date

from tier_helpers import STRONG, WEAK, facts

from smecluster.reports.tier_export import write_json
from smecluster.services.tiers import evaluate_facts

ROUTES = ("st_award", "high_tech", "tech_demo", "equity", "rd_institution")


def _firms(lang: str) -> list[dict]:
    innovation_short = {**STRONG, "uscc": "TEST00000000000009", **{k: WEAK[k] for k in WEAK if k.startswith(ROUTES)},
                        "ip_class1_high_value": 0, "ip_class1_own": 0, "ip_class1": 0, "ip_class2": 2,
                        "rd_spending": 500.0}
    ev = evaluate_facts(facts(STRONG, WEAK, innovation_short), 2024, date(2025, 6, 30))
    return json.loads(write_json(ev, None, lang=lang))["firms"]


def test_reasons_in_words_beside_the_codes():
    """The strong firm qualifies (no reason); the weak one's SRDI reason names each failing condition by id
    and title, in Chinese by default and in English with lang=en, the codes listed apart."""
    zh, en = _firms("zh"), _firms("en")
    assert zh[0]["srdi_sme__reason"] is None and zh[0]["srdi_sme__failing"] is None
    weak_zh, weak_en = zh[1], en[1]
    codes = weak_zh["srdi_sme__failing"].split(", ")
    assert codes and codes == weak_en["srdi_sme__failing"].split(", ")
    for code in (c for c in codes if c != "score"):  # "score": the score path, said with its figures
        assert f"{code} " in weak_zh["srdi_sme__reason"] and f"{code} " in weak_en["srdi_sme__reason"]
    assert "未满足" in weak_zh["srdi_sme__reason"] and "not met" in weak_en["srdi_sme__reason"]
    assert "not met" not in weak_zh["srdi_sme__reason"] and "未满足" not in weak_en["srdi_sme__reason"]
    assert all(weak_zh[f"srdi_sme__{c}"] in ("fail", "unknown") for c in codes if c != "score")  # codes stay
    assert "得分 0 分，未达 60 分" in weak_zh["srdi_sme__reason"]


def test_group_minimum_in_words_with_the_scores():
    """Innovation 15 below 20 with the total 75 above 60: the reason says the group and both figures, and
    the group's minimum sits beside its score."""
    firm = _firms("zh")[2]
    assert firm["innovative_sme__outcome"] == "does_not_qualify"
    assert (firm["innovative_sme__group_innovation"], firm["innovative_sme__group_innovation_min"]) == (15, 20)
    assert firm["innovative_sme__reason"] == "创新能力得分 15 分，低于最低要求 20 分"
    assert firm["innovative_sme__failing"] == "score"
    assert _firms("en")[2]["innovative_sme__reason"] == "innovation scores 15, below the minimum 20"
