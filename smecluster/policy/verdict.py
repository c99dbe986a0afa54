"""Verdicts with evidence: per criterion the status, value, threshold, clause and the gap."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OUTCOMES = ("recognised", "not_recognised", "insufficient_data")


@dataclass
class CriterionResult:
    """The evidence for one criterion of one subject."""

    id: str
    title: str
    clause: str
    source: str | None
    status: str  # pass | fail | warn | unknown | not_assessed
    value: float | None = None
    threshold: float | bool | None = None
    comparator: str | None = None
    unit: str | None = None
    indicator: str | None = None
    gap: str | None = None
    gap_zh: str | None = None
    verified: bool = True
    soft: bool = False
    role: str = "condition"
    declared: float | None = None
    discrepancy: bool = False
    value_source: str = "registry"  # registry | declared
    note: str | None = None
    children: list[CriterionResult] = field(default_factory=list)
    # For an area criterion: every area known and the one used (boundary | members_hull | declared);
    # set by services.clusters so that a hull overriding the declared figure is never silent.
    areas: dict[str, Any] | None = None
    # Data-quality checks flagging a figure this criterion's value rests on ("depends on a doubtful
    # figure"): set by services.quality.mark_doubtful; the status is never changed by it.
    doubtful: list[str] = field(default_factory=list)

    def unverified_anywhere(self) -> bool:
        """True when this criterion or one under it rests on an UNVERIFIED figure."""
        return not self.verified or any(c.unverified_anywhere() for c in self.children)


@dataclass
class Verdict:
    """A subject's outcome under one policy pack, criterion by criterion."""

    cluster: dict[str, Any]
    policy: dict[str, Any]
    year: int
    outcome: str
    needs_review: bool
    criteria: list[CriterionResult]
    # the date D designations are counted on (31 December of `year`: smecluster.policy.validity)
    on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: keys cluster, policy, year, outcome, needs_review, criteria, on."""
        return asdict(self)

    def failing(self) -> list[CriterionResult]:
        """Top-level conditions that fail."""
        return [c for c in self.criteria if c.role == "condition" and c.status == "fail"]


def outcome_of(statuses: list[str]) -> tuple[str, bool]:
    """Outcome from the top-level condition statuses, and whether a reviewer must look (warn).

    Any fail -> not recognised; else any unknown -> insufficient data; else recognised.
    Not-assessed criteria do not decide the outcome (they are shown, never counted as met).
    """
    if "fail" in statuses:
        return "not_recognised", "warn" in statuses
    if "unknown" in statuses:
        return "insufficient_data", "warn" in statuses
    return "recognised", "warn" in statuses
