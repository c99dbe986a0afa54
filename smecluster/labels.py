"""Words for the codes the product prints (outcomes, statuses, changes), in Chinese and English.

JSON and files keep the codes; tables for a person show the word of the chosen language. The web pages
say the same words through their gettext catalogue (web/locale), which a test keeps in step with this.
"""

from __future__ import annotations

import os

LANGS = ("zh", "en")

# code -> (zh, en)
WORDS: dict[str, tuple[str, str]] = {
    # cluster outcomes
    "recognised": ("符合认定条件", "recognised"),
    "not_recognised": ("未达认定条件", "not recognised"),
    "insufficient_data": ("数据不足", "insufficient data"),
    # criterion statuses
    "pass": ("满足", "pass"),
    "fail": ("未满足", "fail"),
    "warn": ("警示", "warn"),
    "unknown": ("未知", "unknown"),
    "not_assessed": ("未评估", "not assessed"),
    # tier outcomes
    "qualifies": ("符合", "qualifies"),
    "qualifies_pending_review": ("符合，待评审判断", "qualifies, pending review"),
    "does_not_qualify": ("不符合", "does not qualify"),
    # what-if changes of a firm
    "gains": ("新增符合", "gains"),
    "loses": ("不再符合", "loses"),
    "expires": ("称号到期", "title expires"),
    "extends": ("称号延续", "title extends"),
}

# Table headers of the command line: header -> zh (English headers are the codes themselves).
HEADERS_ZH: dict[str, str] = {
    "id": "编号", "status": "状态", "value": "数值", "threshold": "门槛", "clause": "条款", "gap": "差距",
    "cluster": "集群", "county": "县（市、区）", "outcome": "结论", "failing": "未满足条件", "kind": "类别",
    "version": "版本", "effective": "有效期", "title": "标题", "test": "判定", "mark": "标注", "year": "年份",
    "count": "数量", "name": "名称", "change": "变化", "before": "原", "after": "新",
    "clause before": "原条款", "clause after": "新条款", "baseline": "现行", "reformed": "改革后",
    "gained": "新增", "lost": "减少", "firms": "企业数", "county_code": "县代码", "industry_code": "行业代码",
    "city_code": "市代码", "city_name": "市", "criteria_changed": "变化的条件", "tier": "梯度",
}


def resolve_lang(option: str | None = None) -> str:
    """The language of printed words: the option, else $SMECLUSTER_LANG, else the locale (LC_ALL,
    LC_MESSAGES, LANG: en_* gives English), else Chinese."""
    for candidate in (option, os.environ.get("SMECLUSTER_LANG")):
        if candidate:
            if candidate not in LANGS:
                raise ValueError(f"language {candidate!r}: choose zh or en")
            return candidate
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value.startswith("en"):
            return "en"
        if value.startswith("zh"):
            return "zh"
    return "zh"


def word(code: object, lang: str) -> object:
    """The word of a code in `lang`; anything that is not a known code is returned as it is."""
    if isinstance(code, str) and code in WORDS:
        return WORDS[code][0 if lang == "zh" else 1]
    return code


def header(name: str, lang: str) -> str:
    """A table header in `lang`."""
    return HEADERS_ZH.get(name, name) if lang == "zh" else name
