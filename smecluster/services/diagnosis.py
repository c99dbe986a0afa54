"""Free diagnosis (免费诊断) of one enterprise: its tier, the next tier and what it lacks.

`diagnose` returns a plain dict (JSON-ready) that the CLI renders as JSON, HTML or PDF and the
web layer renders as a page.

On a province-sized registry whose snapshot is current and holds the province's tier rows and
indicator values (kept beside it, sorted by credit code: `services.tiers.keep_for_diagnosis`), a
diagnosis is a keyed read of the firm's two rows; otherwise the firm's own rows are read from the
database (its credit code in the SQL) and evaluated alone. Both give the same dict. This module
imports neither Polars nor DuckDB at the top: the keyed path needs neither.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from smecluster.analytics.tier_gaps import criterion_report, group_fixes, unmet
from smecluster.analytics.tier_query import OUTCOME_LABELS, STATUS_LABELS, QueryPlan
from smecluster.policy.tiers import tier_label
from smecluster.services.tier_plans import (
    KEYS,
    default_on,
    facts_date,
    latest_year,
    pack_reason,
    plan_for,
    tier_labels,
    tiers_name,
    values_name,
)

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Engine

    from smecluster.analytics.snapshot_files import StoredSnapshot


class UnknownEnterprise(LookupError):
    """No enterprise with that credit code in the registry."""


def diagnose(engine: Engine, uscc: str, year: int | None = None, on: date | None = None,
             evaluation: str = "new") -> dict:
    """The diagnosis of one enterprise as a dict (see diagnosis_from_facts for its shape); `evaluation`
    is the kind (new application or re-review) that, with the date, picks each tier's pack."""
    uscc = uscc.strip().upper()
    kept = kept_diagnosis(engine, uscc, year, on, evaluation)
    if kept is not None:
        return kept
    year = year or latest_year(engine)
    if year is None:
        raise ValueError("the registry has no yearly enterprise data")
    on = on or default_on(year)
    import polars as pl

    from smecluster.analytics.enterprise_facts import build_facts, read_registry

    frames = read_registry(engine, year, uscc=uscc)
    if frames["enterprise"].height == 0:
        raise UnknownEnterprise(f"no enterprise with credit code {uscc} in the registry")
    facts = build_facts(frames["enterprise"], frames["enterprise_year"], frames["enterprise_profile"],
                        frames["designation"], year, on, frames["industry"])
    return diagnosis_from_facts(pl.from_arrow(facts), year, on, evaluation)


def kept_diagnosis(engine: Engine, uscc: str, year: int | None = None, on: date | None = None,
                   evaluation: str = "new") -> dict | None:
    """The diagnosis from the firm's rows of the province tables kept beside a current snapshot, or
    None when there is no current snapshot or it does not hold them (never computed here: that costs
    the province). Raises UnknownEnterprise when the kept tables have no row for the firm. The default
    year is the snapshot's newest (the registry's: the snapshot is current)."""
    from smecluster.analytics.stored_snapshot import current_snapshot

    snapshot = current_snapshot(engine, refresh=False)
    return None if snapshot is None else _kept(snapshot, uscc, year, on, evaluation)


def quick_diagnosis(url: str, uscc: str, year: int | None = None, on: date | None = None,
                    evaluation: str = "new") -> dict | None:
    """`kept_diagnosis` for a short command: the database at `url` (as `smecluster.config.database_url`
    gives it) is asked for its registry version through the driver alone, without SQLAlchemy, an
    engine or the models (`smecluster.dbapi`). None whenever that cannot answer (no current snapshot,
    the schema not at its newest migration, the database not reachable that way): then `diagnose`."""
    from smecluster import dbapi
    from smecluster.analytics.snapshot_files import live_snapshot, root_of

    try:
        version = dbapi.registry_state(url)
    except Exception:  # noqa: BLE001 - any driver's error: the usual path opens the database and says why
        return None
    snapshot = live_snapshot(root_of(url, dbapi.sqlite_file(url)), version) if version else None
    return None if snapshot is None else _kept(snapshot, uscc.strip().upper(), year, on, evaluation)


def _kept(snapshot: StoredSnapshot, uscc: str, year: int | None, on: date | None, evaluation: str) -> dict | None:
    """The diagnosis from the kept tables of a current snapshot (see kept_diagnosis)."""
    year = year or snapshot.newest_year()
    if year is None:
        return None
    on = on or default_on(year)
    plan = plan_for(on, None, KEYS, evaluation)
    key = facts_date(snapshot, on)  # kept tables are named by the period of `on`, not by its day
    if key is None:
        return None
    row = snapshot.lookup(tiers_name(plan, year, key), "uscc", uscc)
    values = snapshot.lookup(values_name(plan, year, key), "uscc", uscc) if row is not None else None
    if row is None or values is None:
        return None
    if row.num_rows == 0:
        raise UnknownEnterprise(f"no enterprise with credit code {uscc} in the registry")
    return _diagnosis(plan, evaluation, row.to_pylist()[0], values.to_pylist()[0], year, on)


def _tier_report(query: QueryPlan, kind: str, i: int, row: dict, values: dict) -> dict:
    plan = query.tiers[i]
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
        fixes = group_fixes(plan, row, values)
        score["group_fixes"] = fixes
        gaps += [_group_gap(f) for f in fixes]
        # with every failing group lifted, is the total still short? then points from anywhere help
        gained = sum(f["score_after"] - f["score"] for f in fixes)
        total, needed = score["score"], score["pass_score"]
        short_total = total is None or needed is None or total + gained < needed
        if not fixes or short_total:
            failing = {f["group"] for f in fixes}
            scored = {c.id: c.group for c in pack.criteria if c.role == "score"}
            gaps += [c for c in criteria if c["role"] == "score" and c.get("advice") and c["status"] != "not_assessed"
                     and scored.get(c["id"]) not in failing]
    return {
        "tier": plan.tier, "label_zh": labels["zh"], "label_en": labels["en"], "outcome": outcome,
        "designated": bool(row.get(f"designated_{plan.tier}")),
        "pack": {"id": pack.id, "title": pack.title, "version": pack.version,
                 "effective_from": pack.effective_from.isoformat(),
                 "effective_to": pack.effective_to.isoformat() if pack.effective_to else None,
                 "evaluation": kind, "reason_en": pack_reason(pack, "en"),
                 "reason_zh": pack_reason(pack, "zh")},
        "score": score, "criteria": criteria, "direct_routes_met": [r["id"] for r in routes if r["status"] == "pass"],
        "gaps": gaps, "one_short": bool(row["one_short_of_next"]) and row["next_rank"] == i,
        "unverified": plan.unverified, "review": plan.review,
    }


def _group_gap(fix: dict) -> dict:
    """A failing score group as one line of the gaps: the group, its score and minimum, the cheapest fix."""
    return {"id": f"group:{fix['group']}", "title": f"{fix['label_zh']} / {fix['label_en']}",
            "clause": f"{fix['label_zh']}不低于 {fix['minimum']:g} 分", "role": "score_group", "verified": True,
            "status": "fail", "value_text": f"{fix['score']:g}", "threshold_text": f"≥ {fix['minimum']:g}",
            "shortfall": fix["minimum"] - fix["score"], "shortfall_text": f"{fix['minimum'] - fix['score']:g}",
            "advice": fix["advice"], "advice_en": fix["advice_en"], "changes": fix["changes"],
            "score_after": fix["score_after"], "total_after": fix["total_after"]}


def diagnosis_from_facts(facts: pl.DataFrame, year: int, on: date, evaluation: str = "new") -> dict:
    """The diagnosis of the single firm in `facts`.

    Keys: uscc, name, county_code, industry_code, year, on, current_tier, designated_tier,
    next_tier (kinds or None), evaluation (new | review), tiers (one report per tier: its name under
    the pack, outcome, the pack applied and why, score breakdown, criteria with status/value/gap/advice,
    gaps = the unmet criteria, unverified criteria ids), next (the next tier's report, or None at the top).
    """
    from smecluster.analytics.prepared import run_small
    from smecluster.services.tiers import evaluate_facts

    result = evaluate_facts(facts, year, on, keys=KEYS, evaluation=evaluation)
    row = result.frame().row(0, named=True)
    values = run_small(result.plan.indicator_sql, {"facts": facts.to_arrow()}).to_pylist()[0]
    return _diagnosis(result.plan, evaluation, row, values, year, on)


def _diagnosis(plan: QueryPlan, kind: str, row: dict, values: dict, year: int, on: date) -> dict:
    """The diagnosis dict from the firm's tier row and indicator values."""
    kinds = [p.tier for p in plan.tiers]
    reports = [_tier_report(plan, kind, i, row, values) for i in range(len(kinds))]
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
