"""How far a value is from its threshold, said in the user's terms (from the catalogue's wording)."""

from __future__ import annotations

import math

from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.policy.pack import Criterion
from smecluster.values import format_value  # noqa: F401  (re-exported: callers import it from here)


def shortfall(c: Criterion, value: float) -> float:
    """How much the value must move to meet the threshold (in the indicator's unit)."""
    t = float(c.threshold)
    unit = indicator_info(c.indicator).unit
    step = 1.0 if unit == "count" else 0.0
    if c.comparator == ">=":
        return t - value
    if c.comparator == ">":
        return t - value + step
    if c.comparator == "<=":
        return value - t
    if c.comparator == "<":
        return value - t + step
    return abs(value - t)


def more_firms(c: Criterion, value: float, denominator: float | None) -> int | None:
    """For a share of firms: how many more firms would close the gap."""
    if not denominator:
        return None
    t = float(c.threshold)
    have = round(value * denominator)
    need = math.ceil(t * denominator - 1e-9)
    if c.comparator == ">" and need <= t * denominator + 1e-9:
        need += 1
    return max(need - have, 0)


def gap_text(c: Criterion, value: float | None, context: dict) -> tuple[str | None, str | None]:
    """(English, Chinese) gap sentences for a failing or warning leaf; None when nothing is owed."""
    info = indicator_info(c.indicator)
    if value is None:
        return (
            f"no data for {info.label_en}: report it to be assessed",
            f"缺少{info.label_zh}数据，补报后方可评估",
        )
    short = shortfall(c, value)
    if short <= 0:
        return None, None
    plain = info.unit == "km2"  # the area templates name their unit (km2, 平方公里) themselves

    def fields(lang: str) -> dict:
        return {
            "value": format_value(value, info.unit, lang=lang, plain=plain),
            "threshold": format_value(c.threshold, info.unit, lang=lang, plain=plain),
            "shortfall": format_value(short, info.unit, lang=lang, plain=plain),
            "more_firms": more_firms(c, value, context.get("denominator")),
            "leading": context.get("leading", ""),
        }

    en = c.gap_en or info.gap_en or "{value} -> {threshold}"
    zh = c.gap_zh or info.gap_zh or "{value} → {threshold}"
    return en.format(**fields("en")), zh.format(**fields("zh"))
