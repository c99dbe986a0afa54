"""Free diagnosis (免费诊断) of one enterprise: its tier, the next tier and what it lacks.

`diagnose` returns a plain dict (JSON-ready) that the CLI renders as JSON, HTML or PDF and the
web layer renders as a page.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Engine

from smecluster.analytics.enterprise_facts import build_facts, read_registry
from smecluster.analytics.prepared import run_small
from smecluster.analytics.tier_gaps import criterion_report, unmet
from smecluster.analytics.tier_query import OUTCOME_LABELS, STATUS_LABELS
from smecluster.policy.tiers import tier_label
from smecluster.services.tiers import (
    KEYS,
    TierEvaluation,
    default_on,
    evaluate_facts,
    latest_year,
    pack_reason,
    tier_labels,
)


class UnknownEnterprise(LookupError):
    """No enterprise with that credit code in the registry."""


def diagnose(engine: Engine, uscc: str, year: int | None = None, on: date | None = None,
             evaluation: str = "new") -> dict:
    """The diagnosis of one enterprise as a dict (see diagnosis_from_facts for its shape); `evaluation`
    is the kind (new application or re-review) that, with the date, picks each tier's pack."""
    uscc = uscc.strip().upper()
    year = year or latest_year(engine)
    if year is None:
        raise ValueError("the registry has no yearly enterprise data")
    on = on or default_on(year)
    frames = read_registry(engine, year, uscc=uscc)
    if frames["enterprise"].height == 0:
        raise UnknownEnterprise(f"no enterprise with credit code {uscc} in the registry")
    facts = build_facts(frames["enterprise"], frames["enterprise_year"], frames["enterprise_profile"],
                        frames["designation"], year, on, frames["industry"])
    return diagnosis_from_facts(pl.from_arrow(facts), year, on, evaluation)


def _tier_report(evaluation: TierEvaluation, i: int, row: dict, values: dict) -> dict:
    plan = evaluation.tiers[i]
    pack, rule = plan.pack, plan.pack.pass_rule
    labels = {"zh": tier_label(pack, "zh"), "en": tier_label(pack, "en")}
    criteria = [criterion_report(c, plan, row, values) for c in pack.criteria]
    outcome = OUTCOME_LABELS[row[plan.col("outcome")]]
    score = None
    if plan.points:
        groups = [{"group": g, "score": row.get(plan.col("group_" + g)),
                   "minimum": (rule.group_minimums.get(g) if rule else None)} for g in plan.groups]
        score = {"score": row.get(plan.col("score")), "max_possible": row.get(plan.col("score_max")),
                 "pass_score": rule.score_at_least if rule else None, "groups": groups,
                 "status": STATUS_LABELS[row[plan.col("score_status")]] if plan.col("score_status") in row else None}
    required = [c for c in criteria if c["role"] in ("condition", "baseline")]
    routes = [c for c in criteria if c["role"] == "direct_route"]
    gaps = [leaf for c in required for leaf in unmet(c)]
    if score and score["status"] != "pass" and not any(r["status"] == "pass" for r in routes):
        gaps += [c for c in criteria if c["role"] == "score" and c.get("advice") and c["status"] != "not_assessed"]
    return {
        "tier": plan.tier, "label_zh": labels["zh"], "label_en": labels["en"], "outcome": outcome,
        "designated": bool(row.get(f"designated_{plan.tier}")),
        "pack": {"id": pack.id, "title": pack.title, "version": pack.version,
                 "effective_from": pack.effective_from.isoformat(),
                 "effective_to": pack.effective_to.isoformat() if pack.effective_to else None,
                 "evaluation": evaluation.evaluation, "reason_en": pack_reason(pack, "en"),
                 "reason_zh": pack_reason(pack, "zh")},
        "score": score, "criteria": criteria, "direct_routes_met": [r["id"] for r in routes if r["status"] == "pass"],
        "gaps": gaps, "one_short": bool(row["one_short_of_next"]) and row["next_rank"] == i,
        "unverified": plan.unverified, "review": plan.review,
    }


def diagnosis_from_facts(facts: pl.DataFrame, year: int, on: date, evaluation: str = "new") -> dict:
    """The diagnosis of the single firm in `facts`.

    Keys: uscc, name, county_code, industry_code, year, on, current_tier, designated_tier,
    next_tier (kinds or None), evaluation (new | review), tiers (one report per tier: its name under
    the pack, outcome, the pack applied and why, score breakdown, criteria with status/value/gap/advice,
    gaps = the unmet criteria, unverified criteria ids), next (the next tier's report, or None at the top).
    """
    kind = evaluation
    evaluation = evaluate_facts(facts, year, on, keys=KEYS, evaluation=kind)
    row = evaluation.frame().row(0, named=True)
    values = pl.from_arrow(run_small(evaluation.plan.indicator_sql, {"facts": facts.to_arrow()})).row(0, named=True)
    kinds = [p.tier for p in evaluation.tiers]
    reports = [_tier_report(evaluation, i, row, values) for i in range(len(kinds))]
    pick = lambda r: kinds[r] if r is not None and r >= 0 else None  # noqa: E731
    nxt = row["next_rank"]
    return {
        "uscc": row["uscc"], "name": row["name"], "county_code": row["county_code"],
        "industry_code": row["industry_code"], "year": year, "on": on.isoformat(), "evaluation": kind,
        "current_tier": pick(row["highest_rank"]), "designated_tier": pick(row["designated_rank"]),
        "next_tier": pick(nxt), "one_short_of_next": bool(row["one_short_of_next"]),
        "tiers": reports, "next": reports[nxt] if nxt is not None else None,
        "labels": {r["tier"]: {**tier_labels()[r["tier"]], "zh": r["label_zh"], "en": r["label_en"]}
                   for r in reports},
    }
