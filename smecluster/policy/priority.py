"""Priority packs (kind `priority`): the province's dated choice of dimensions, indicators and weights.

POLICY.md section 7: the provincial Measures name five dimensions for priority support and say that the
best recognised clusters are recommended to the national list; no indicator, weight or scoring was
published, so all of it is the province's choice held as data here (smecluster/policy/priority/*.yaml).
The loader checks the pack (indicators in the catalogue with a SQL builder, directions, normalisations,
shares, the AHP matrix's consistency) and names the file and the item that is wrong.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from smecluster import yamlio
from smecluster.analytics.catalogue import catalogue
from smecluster.analytics.priority import NORMALISATIONS, AhpError, ahp
from smecluster.policy.pack import PackError, Source

PRIORITY_DIR = Path(__file__).with_name("priority")


class PriorityIndicator(BaseModel):
    """One indicator of a dimension: its direction, normalisation, share of the dimension and reason."""

    model_config = ConfigDict(extra="forbid")
    indicator: str
    params: dict = Field(default_factory=dict)
    direction: Literal["benefit", "cost"]
    normalisation: Literal["minmax", "max", "sum", "vector"] = "minmax"
    share: float = Field(gt=0, le=1)  # of the dimension's expert weight
    reason: str = Field(min_length=4)

    @property
    def column(self) -> str:
        """The indicator table's column name (indicator plus parameters, as policy.compile names it)."""
        from smecluster.policy.compile import indicator_column

        return indicator_column(self.indicator, self.params)


class Dimension(BaseModel):
    """One of the five dimensions of the Measures."""

    model_config = ConfigDict(extra="forbid")
    id: str
    title_zh: str
    title_en: str
    clause: str
    indicators: list[PriorityIndicator]


class WeightRule(BaseModel):
    """Expert weights from an AHP matrix over the dimensions, and how they join the objective weights."""

    model_config = ConfigDict(extra="forbid")
    ahp: list[list[float]]  # rows and columns in the order of `dimensions`; "1/3" accepted for 1/3
    ahp_note: str = ""
    expert_share: float = Field(ge=0, le=1)
    entropy_share: float = Field(ge=0, le=1)  # of the objective weight; CRITIC has the rest
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _fractions(cls, raw: dict) -> dict:
        # Saaty judgements are written as fractions ("1/3"); a decimal 0.333 would not be exactly reciprocal.
        if isinstance(raw, dict) and isinstance(raw.get("ahp"), list):
            raw = dict(raw)
            raw["ahp"] = [[_fraction(v) for v in row] if isinstance(row, list) else row for row in raw["ahp"]]
        return raw


def _fraction(v):
    if isinstance(v, str) and "/" in v:
        num, _, den = v.partition("/")
        try:
            return float(num) / float(den)
        except (ValueError, ZeroDivisionError):
            return v
    return v


class StabilityRule(BaseModel):
    """How the weights are perturbed to measure how stable a ranking is."""

    model_config = ConfigDict(extra="forbid")
    draws: int = Field(ge=100, le=1_000_000)
    concentration: float = Field(gt=1)
    seed: int
    note: str = ""


class RecommendationRule(BaseModel):
    """The national list: its pack and the province's quota of recommendations per year."""

    model_config = ConfigDict(extra="forbid")
    national_pack: str
    quota: dict[int, int]
    quota_source: str = ""
    statuses: list[str] = Field(default_factory=lambda: ["recognised", "re_review"])

    def quota_for(self, year: int) -> int:
        """The quota of `year`, else of the latest earlier year listed; 0 before any."""
        known = sorted(y for y in self.quota if y <= year)
        return self.quota[known[-1]] if known else 0


class PriorityPack(BaseModel):
    """A priority pack: dimensions, weights, method, stability and the recommendation rule."""

    model_config = ConfigDict(extra="forbid")
    id: str
    kind: Literal["priority"]
    title: str
    issuer: str
    version: str
    effective_from: dt.date
    sources: list[Source] = Field(default_factory=list)
    note: str = ""
    verified: bool = False
    method: Literal["topsis", "weighted_sum"]
    top_n: int = Field(ge=1)
    dimensions: list[Dimension]
    weights: WeightRule
    stability: StabilityRule
    recommendation: RecommendationRule

    @model_validator(mode="after")
    def _shape(self) -> PriorityPack:
        if len(self.weights.ahp) != len(self.dimensions):
            raise ValueError(f"weights.ahp has {len(self.weights.ahp)} rows for {len(self.dimensions)} dimensions")
        return self

    def indicators(self) -> list[tuple[int, PriorityIndicator]]:
        """Every indicator in pack order with the index of its dimension."""
        return [(d, ind) for d, dim in enumerate(self.dimensions) for ind in dim.indicators]

    def expert_weights(self) -> np.ndarray:
        """Indicator expert weights: AHP weight of the dimension x the indicator's share of it."""
        dims = ahp(self.weights.ahp, [d.id for d in self.dimensions], self.id).weights
        return np.array([dims[d] * ind.share for d, ind in self.indicators()])


def _check(pack: PriorityPack, where: str) -> None:
    known = catalogue()
    from smecluster.analytics.cluster_indicators import BUILDERS

    seen: set[str] = set()
    for dim in pack.dimensions:
        total = sum(i.share for i in dim.indicators)
        if not dim.indicators:
            raise PackError(f"{where}: dimension {dim.id}: no indicators")
        if abs(total - 1.0) > 1e-6:
            raise PackError(f"{where}: dimension {dim.id}: indicator shares add up to {total:g}, not 1")
        for ind in dim.indicators:
            info = known.get(ind.indicator)
            if info is None or info.subject != "cluster":
                raise PackError(f"{where}: dimension {dim.id}: unknown cluster indicator {ind.indicator!r}")
            if ind.indicator not in BUILDERS:
                raise PackError(f"{where}: dimension {dim.id}: indicator {ind.indicator!r} has no registry query")
            if ind.column in seen:
                raise PackError(f"{where}: indicator {ind.column} appears twice")
            if ind.normalisation not in NORMALISATIONS:
                raise PackError(f"{where}: {ind.indicator}: unknown normalisation {ind.normalisation}")
            seen.add(ind.column)
    try:
        pack.expert_weights()
    except AhpError as exc:
        raise PackError(f"{where}: weights.ahp: {exc}") from None


def priority_from_dict(raw: dict, where: str) -> PriorityPack:
    """Check a priority pack read from YAML; PackError names `where` and the problem."""
    try:
        pack = PriorityPack.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise PackError(f"{where}: {loc}: {first['msg']}") from None
    _check(pack, where)
    return pack


def load_priority_file(path: Path | str) -> PriorityPack:
    """Read and check one priority pack file."""
    path = Path(path)
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(f"{path}: no such priority pack file") from None
    except yaml.YAMLError as exc:
        raise PackError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise PackError(f"{path}: a priority pack is a mapping with id, kind: priority, dimensions, ...")
    return priority_from_dict(raw, str(path))


@lru_cache(maxsize=8)
def _shipped(pack_id: str) -> PriorityPack:
    return load_priority_file(PRIORITY_DIR / f"{pack_id}.yaml")


def priority_pack_ids() -> list[str]:
    """Ids of the shipped priority packs, oldest first by file name."""
    return sorted(p.stem for p in PRIORITY_DIR.glob("*.yaml"))


def load_priority_pack(pack_id: str | None = None) -> PriorityPack:
    """A shipped priority pack by id (default: the newest by effective date), or a file by path."""
    if pack_id is None:
        packs = [_shipped(i) for i in priority_pack_ids()]
        if not packs:
            raise PackError("no priority pack shipped")
        return max(packs, key=lambda p: p.effective_from)
    candidate = Path(pack_id)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return load_priority_file(candidate)
    if pack_id not in priority_pack_ids():
        raise PackError(f"unknown priority pack {pack_id!r}; known: {', '.join(priority_pack_ids())}")
    return _shipped(pack_id)
