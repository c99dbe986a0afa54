"""The tiers of gradient cultivation (tiers.yaml) and the tier pack in force on a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from smecluster import yamlio
from smecluster.policy.pack import Pack, PackError, packs_of_kind

TIERS_FILE = Path(__file__).with_name("tiers.yaml")


@dataclass(frozen=True)
class Tier:
    """One tier: its designation kind, labels and validity."""

    kind: str
    label_zh: str
    label_en: str
    validity_years: int
    validity_verified: bool
    rank: int


@lru_cache(maxsize=1)
def tiers() -> tuple[Tier, ...]:
    """Every tier, lowest first."""
    raw = yamlio.safe_load(TIERS_FILE.read_text(encoding="utf-8"))
    return tuple(Tier(rank=i, **entry) for i, entry in enumerate(raw))


def tier(kind: str) -> Tier:
    """One tier by kind; ValueError lists the known kinds."""
    for t in tiers():
        if t.kind == kind:
            return t
    raise ValueError(f"unknown tier {kind!r}; known: {', '.join(t.kind for t in tiers())}")


def tier_pack(kind: str, on: date) -> Pack:
    """The pack of one tier in force on a date (the newest whose period covers it)."""
    tier(kind)
    candidates = [
        p for p in packs_of_kind("enterprise_tier")
        if p.tier == kind and p.effective_from <= on and (p.effective_to is None or on <= p.effective_to)
    ]
    if not candidates:
        raise PackError(f"no {kind} pack in force on {on.isoformat()}")
    return candidates[-1]


def tier_packs(on: date, only: str | None = None) -> list[Pack]:
    """The pack in force on a date of every tier (or of one), lowest tier first."""
    kinds = [only] if only else [t.kind for t in tiers()]
    return [tier_pack(k, on) for k in kinds]
