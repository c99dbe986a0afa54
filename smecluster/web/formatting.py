"""Template filters: values by their unit (smecluster.values, in the page's language), comparators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smecluster.values import format_value

COMPARATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}


def fmt_comparator(comparator: str | None) -> str:
    """A comparator as the mathematical sign."""
    return COMPARATOR_SIGNS.get(comparator or "", comparator or "")


def filters(locale: str) -> dict[str, Callable[..., str]]:
    """The filters of one locale's templates: `value` (a value by its unit) and `comparator`."""

    def value(v: Any, unit: str | None = None) -> str:
        return format_value(v, unit, lang=locale)

    return {"value": value, "comparator": fmt_comparator}
