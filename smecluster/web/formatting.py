"""Template filters: numbers with units, comparators, dates."""

from __future__ import annotations

from typing import Any

COMPARATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}


def fmt_value(value: Any, unit: str | None = None) -> str:
    """A criterion value for a person: ratios as percentages, counts whole, money in 万元."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int | float):
        if unit == "ratio":
            return f"{value * 100:.2f}%"
        if unit == "km2":
            return f"{value:,.2f} km²"
        if unit == "wan_yuan":
            return f"{value:,.0f} 万元"
        if unit == "count" or isinstance(value, int):
            return f"{int(value):,}"
        return f"{value:,.4g}"
    return str(value)


def fmt_comparator(comparator: str | None) -> str:
    """A comparator as the mathematical sign."""
    return COMPARATOR_SIGNS.get(comparator or "", comparator or "")


FILTERS = {"value": fmt_value, "comparator": fmt_comparator}
