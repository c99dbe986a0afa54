"""One way to write a value for a person, by its unit, for verdicts, tiers, pages, reports and the CLI.

Before this module the verdict gaps, the tier diagnoses, the web pages and the dossiers each had a
formatter of their own (24% / 24.00% / 24.0%; 40.00亿元 / 400,000 万元 / 400,000.0 万元 / 400,000.00; ✓ /
是 / 是 / yes), so one figure read differently on a page, in its gap sentence and in the dossier.
The rules (decision 1942):

- missing: "—" (or the caller's word for it, e.g. 未填报 in a diagnosis);
- yes/no: 是 / 否 (zh), yes / no (en), "是 / yes" when both languages share one text;
- ratio: a percentage with at most two decimals, trailing zeros dropped (30%, 9.99%, 12.5%);
- money (wan_yuan, 万元 as bureaus report it): below 1亿元 in 万元 (8,000 万元), from 1亿元 in 亿元 with two
  decimals (40.00 亿元), also in a text shared by both languages; English alone in CNY (CNY 80.00
  million, CNY 4.00 billion); `plain` gives the number in 万元 alone, for a table whose header names it;
- count: whole, with thousands separators (1,234); code: the digits as they are;
- km2: two decimals and the unit (12.35 km²); years: 3 年 / 3 years; rank: 第 2 名 / No. 2 (9999: none);
- anything else: at most two decimals (four significant digits below 1), separators, zeros dropped.
"""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en", "both")
NO_RANK = 9999  # the rank indicators' "no rank" stand-in


def _pair(zh: str, en: str, lang: str) -> str:
    return zh if lang == "zh" else en if lang == "en" else f"{zh} / {en}"


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def number(value: float | int) -> str:
    """A plain number: whole numbers with separators, others with at most two decimals (four
    significant digits below 1), trailing zeros dropped."""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 1:
        return _trim(f"{value:.4g}") if "e" not in f"{value:.4g}" else f"{value:.4g}"
    return _trim(f"{value:,.2f}")


def percent(ratio: float) -> str:
    """A ratio as a percentage: at most two decimals, trailing zeros dropped (0.3 → 30%); a share below
    0.01% keeps two significant digits (a gap of 0.004% is not 0%)."""
    pct = ratio * 100
    if 0 < abs(pct) < 0.01:
        short = f"{pct:.2g}"
        return (_trim(f"{pct:.12f}") if "e" in short else short) + "%"
    return _trim(f"{pct:.2f}") + "%"


def money(wan_yuan: float, lang: str = "zh", plain: bool = False) -> str:
    """An amount given in 万元: 万元 below 1亿元, 亿元 from it (zh); CNY million / billion (en)."""
    if plain:
        return number(round(wan_yuan, 2))
    if lang == "en":
        yuan = wan_yuan * 1e4
        if abs(yuan) >= 1e9:
            return f"CNY {yuan / 1e9:,.2f} billion"
        if abs(yuan) >= 1e6:
            return f"CNY {yuan / 1e6:,.2f} million"
        return f"CNY {yuan:,.0f}"
    # 万元 is the unit every bureau reads, so a text shared by both languages keeps it too
    if abs(wan_yuan) >= 1e4:
        return f"{wan_yuan / 1e4:,.2f} 亿元"
    return f"{wan_yuan:,.0f} 万元"


def format_value(value: Any, unit: str | None = None, *, lang: str = "zh", missing: str = "—",
                 plain: bool = False) -> str:
    """`value` for a person by its indicator unit (module doc); `lang` zh, en or both; `missing` for None;
    `plain` leaves the unit out where a header names it."""
    if value is None:
        return missing
    if isinstance(value, bool) or unit == "bool":
        return _pair("是", "yes", lang) if value else _pair("否", "no", lang)
    if not isinstance(value, int | float):
        return str(value)
    if unit == "ratio":
        return percent(value)
    if unit == "wan_yuan":
        return money(value, lang, plain)
    if unit == "count":
        return f"{round(value):,}"
    if unit == "code":
        return f"{int(value)}"
    if unit == "km2":
        return f"{value:,.2f}" if plain else f"{value:,.2f} km²"
    if unit == "years":
        return number(value) if plain else _pair(f"{number(value)} 年", f"{number(value)} years", lang)
    if unit == "rank":
        if value >= NO_RANK:
            return _pair("无", "none", lang)
        return _pair(f"第 {int(value)} 名", f"No. {int(value)}", lang)
    return number(value)
