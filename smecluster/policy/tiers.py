"""The tiers of gradient cultivation (tiers.yaml) and the tier pack in force on a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from smecluster import yamlio
from smecluster.policy.pack import EVALUATIONS, Pack, PackError, packs_of_kind

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


def tier_pack(kind: str, on: date, evaluation: str = "new") -> Pack:
    """The pack of one tier applied to an evaluation of a kind (new application or re-review) on a
    date: the newest pack serving that kind on that date, as a copy whose `selection` says why.

    A pack serves a kind over its own effective period unless its `evaluations` say otherwise (the
    2026 re-review of little giants still used the 2022 standard, 工信厅企业函〔2026〕117号).
    """
    tier(kind)
    if evaluation not in EVALUATIONS:
        raise ValueError(f"unknown kind of evaluation {evaluation!r}; known: {', '.join(EVALUATIONS)}")
    candidates = [p for p in packs_of_kind("enterprise_tier") if p.tier == kind and p.serves(evaluation, on)]
    if not candidates:
        raise PackError(f"no {kind} pack serves a {evaluation} evaluation on {on.isoformat()}")
    best = max(candidates, key=lambda p: p.window(evaluation).effective_from)
    return best.for_evaluation(evaluation, on)


def tier_packs(on: date, only: str | None = None, evaluation: str = "new") -> list[Pack]:
    """The pack applied on a date to every tier (or one) for one kind of evaluation, lowest tier first."""
    kinds = [only] if only else [t.kind for t in tiers()]
    return [tier_pack(k, on, evaluation) for k in kinds]


def tier_label(pack: Pack, lang: str = "zh") -> str:
    """The tier's name under a pack: the pack's own (by its date: 科技和创新型中小企业 from 2026-04-01)
    or tiers.yaml's."""
    own = pack.tier_label_zh if lang == "zh" else pack.tier_label_en
    if own:
        return own
    t = tier(pack.tier or "")
    return t.label_zh if lang == "zh" else t.label_en
