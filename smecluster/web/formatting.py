"""Template filters: values by their unit (smecluster.values, in the page's language), comparators."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from smecluster.values import format_value

COMPARATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}


def fmt_comparator(comparator: str | None) -> str:
    """A comparator as the mathematical sign."""
    return COMPARATOR_SIGNS.get(comparator or "", comparator or "")


def title_in(title: str | None, locale: str) -> str:
    """A pack title written "中文 / English" in the page's language (either half; a title without the
    slash as it is)."""
    parts = re.split(r"\s*/\s+", title or "", maxsplit=1)
    if len(parts) == 1:
        return title or ""
    zh, en = parts
    return zh.strip() if locale == "zh" else en.strip() or zh.strip()


def filters(locale: str) -> dict[str, Callable[..., str]]:
    """The filters of one locale's templates: `value` (a value by its unit), `comparator` and `title`
    (the page's language half of a bilingual title)."""

    def value(v: Any, unit: str | None = None) -> str:
        return format_value(v, unit, lang=locale)

    return {"value": value, "comparator": fmt_comparator, "title": lambda t: title_in(t, locale)}
