"""Baseline and reformed packs compiled into ONE query over the same facts (what-if simulation).

Each pair (baseline pack, reformed pack) of a tier becomes two tier plans, prefixed `a__` and `b__`,
laid out in the same layers as the tier evaluation (smecluster.analytics.tier_query), so both verdicts
of every firm come from one scan of the fact table; only the tiers a reform touches are compiled
(a tier's verdict reads facts, never another tier's verdict). Cluster packs are compiled to status
codes of every criterion and an outcome code, both packs in one SELECT.
"""

from __future__ import annotations

from smecluster.analytics.tier_query import TierPlan, _layers_for, _verdict_layers, indicator_exprs, indicator_select
from smecluster.analytics.tier_sql import NOT_ASSESSED, PASS, const, quote
from smecluster.policy.compile import status_code_sql
from smecluster.policy.pack import Pack

SIM_KEYS = ("uscc", "county_code", "industry_code")


def outcome_col(side: str, tier: str) -> str:
    """The outcome column of one side (a: baseline, b: reformed) of a tier."""
    return f"{side}__{tier}__outcome"


def compile_tier_pairs(pairs: list[tuple[Pack, Pack]], source: str = "facts",
                       keys: tuple[str, ...] = SIM_KEYS) -> str:
    """SQL giving, per firm, the keys, `designated_<tier>` and the baseline and reformed outcome code
    (0 fail, 1 unknown, 2 pending review, 3 qualifies) of every tier of `pairs`."""
    plans: list[TierPlan] = []
    for base, reformed in pairs:
        plans += [TierPlan(tier=f"a__{base.tier}", pack=base), TierPlan(tier=f"b__{base.tier}", pack=reformed)]
    layers: list[list[str]] = [[]]
    for plan in plans:
        _layers_for(plan, layers)
    needed = indicator_exprs(plans)
    designated = [f"designated_{base.tier}" for base, _ in pairs]
    ind_cols = indicator_select(needed)
    sql = f"SELECT {', '.join([*keys, *designated, *ind_cols])} FROM {source}"
    verdicts = [_verdict_layers(p) for p in plans]
    for layer in [*layers, *([c for v in verdicts for c in v[i]] for i in range(len(verdicts[0])))]:
        if layer:
            sql = f"SELECT *, {', '.join(layer)} FROM ({sql}) AS q"
    out = [*keys, *designated] + [outcome_col(s, base.tier) for base, _ in pairs for s in ("a", "b")]
    return f"SELECT {', '.join(quote(c) for c in out)} FROM ({sql}) AS q"


def cluster_outcome_sql(pack: Pack, prefix: str) -> str:
    """Outcome code of a cluster pack from its top-level condition statuses (already selected as
    `<prefix>__<id>`): the least of them, a criterion not assessed by rule never deciding it
    (policy.verdict.outcome_of: any fail -> 0, else any unknown -> 1, else recognised 2-3)."""
    conds = [quote(f"{prefix}__{c.id}") for c in pack.criteria if c.role == "condition"]
    if not conds:
        return const(PASS)
    parts = [f"CASE WHEN {c} = {NOT_ASSESSED} THEN {const(PASS)} ELSE {c} END" for c in conds]
    return parts[0] if len(parts) == 1 else f"LEAST({', '.join(parts)})"


def compile_cluster_pair(base: Pack, reformed: Pack, source: str = "indicators", key: str = "cluster_id") -> str:
    """SQL giving, per cluster, every criterion's status code under both packs (`a__<id>`, `b__<id>`)
    and both outcome codes (`a__outcome`, `b__outcome`), in one SELECT."""
    inner = [quote(key)]
    for prefix, pack in (("a", base), ("b", reformed)):
        inner += [f"{status_code_sql(c)} AS {quote(f'{prefix}__{c.id}')}" for c in pack.all_criteria()]
    outer = [f"{cluster_outcome_sql(base, 'a')} AS a__outcome", f"{cluster_outcome_sql(reformed, 'b')} AS b__outcome"]
    return f"SELECT *, {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {source}) AS q"
