"""The indicator catalogue (indicators.yaml): names, units, labels and gap wording."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from smecluster import yamlio

CATALOGUE_FILE = Path(__file__).with_name("indicators.yaml")
UNITS = ("count", "ratio", "km2", "wan_yuan", "bool", "years", "points", "code", "rank", "index", "per_100",
         "tce_per_wan_yuan")


@dataclass(frozen=True)
class IndicatorInfo:
    """What the catalogue says of one indicator."""

    name: str
    subject: str
    unit: str
    label_zh: str
    label_en: str
    params: dict = field(default_factory=dict)
    denominator: str | None = None
    gap_en: str | None = None
    gap_zh: str | None = None
    # SQL over the subject's fact columns (enterprise indicators); None: a column of that name.
    expr: str | None = None


@lru_cache(maxsize=1)
def catalogue() -> dict[str, IndicatorInfo]:
    """Every indicator, keyed by name, read from indicators.yaml."""
    raw = yamlio.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    out: dict[str, IndicatorInfo] = {}
    for subject, entries in raw.items():
        for name, spec in entries.items():
            if spec.get("unit") not in UNITS:
                raise ValueError(f"{CATALOGUE_FILE}: indicator {name}: unknown unit {spec.get('unit')}")
            out[name] = IndicatorInfo(name=name, subject=subject, **spec)
    return out


def indicator(name: str) -> IndicatorInfo:
    """One indicator's entry; KeyError names the unknown indicator."""
    try:
        return catalogue()[name]
    except KeyError:
        raise KeyError(f"unknown indicator {name!r}") from None
