"""Priority ranking and the national recommendation (issue 11 parts 1-4), for the CLI, web and dossiers.

Public API (stable; other modules call these):
- `rank_clusters(engine, pack=None, year=None, top_n=None) -> Ranking`: the registry's recognised
  clusters scored on the priority pack's indicators, with weights, dimension scores and stability.
- `rank_table(table, subjects, pack, year, top_n=None) -> Ranking`: the same on an indicator table
  already computed (scenario files, benchmarks).
- `recommend(engine, pack=None, year=None) -> Recommendation`: recognised clusters meeting the national
  pack, ordered by priority score and cut at the province's quota; the gaps of those that do not.
- `confirm_recommendation(engine, who, year, pack=None) -> dict` and `confirmed_recommendation(engine,
  year)`: the province administrator's confirmation (audited) and what was confirmed.
`Ranking.to_json()` and `Recommendation.to_json()` give the documented JSON (docs/priority.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Engine

from smecluster.analytics import priority as kernel
from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.policy.priority import PriorityPack, load_priority_pack

# Notes a ranking can carry: code -> (English, Chinese); {…} filled from the note's fields.
NOTES = {
    "single_cluster": ("Only one cluster: it ranks first by definition and its scores compare it with nobody.",
                       "仅一个集群：按定义排第一，其得分不与任何集群比较。"),
    "no_clusters": ("No recognised cluster to rank in this year.", "该年度没有可排序的已认定集群。"),
    "constant": ("{label}: every cluster has the same value ({value}); it separates nobody, so its weight is 0 "
                 "and the other weights are rescaled.",
                 "{label_zh}：各集群取值相同（{value}），不区分任何集群，权重记为0，其余权重按比例放大。"),
    "imputed": ("{label}: {count} cluster(s) reported no value and took the worst value among the others "
                "({clusters}).",
                "{label_zh}：{count} 个集群无数据，按其他集群中的最差值计（{clusters}）。"),
    "objective_undefined": ("Objective weights (entropy, CRITIC) need at least two clusters that differ; "
                            "the expert weights are used alone.",
                            "客观权重（熵权、CRITIC）需要至少两个取值不同的集群；本次仅用专家权重。"),
    "all_equal": ("Every cluster has the same normalised values: all scores are 0.5 and all share rank 1.",
                  "各集群标准化后取值完全相同：得分均为0.5，并列第1。"),
    "tie": ("{names} have the same score and share rank {rank}.", "{names} 得分相同，并列第 {rank} 名。"),
    "no_swap": ("No single weight change can put {first_out} above {last_in}.",
                "任何单一权重的调整都不能使 {first_out} 超过 {last_in}。"),
}


def note(code: str, **fields: Any) -> dict:
    """A note of a ranking in both languages (`code`, `en`, `zh` and its fields)."""
    en, zh = NOTES[code]
    return {"code": code, "en": en.format(**fields), "zh": zh.format(**fields), **fields}


@dataclass
class RankedCluster:
    """One cluster's place in the ranking."""

    id: int
    code: str
    name: str
    county_code: str
    county_name: str
    status: str
    values: dict[str, float | None]  # raw indicator values (None = not reported)
    imputed: list[str]  # indicator columns filled with the worst value
    dimension_scores: dict[str, float]
    score: float  # the pack's method (TOPSIS closeness or weighted sum)
    topsis: float
    weighted_sum: float
    rank: int
    rank_p05: int
    rank_p95: int
    rank_median: int
    p_top_n: float

    def to_json(self) -> dict:
        """The per-cluster JSON of `smecluster rank --format json`."""
        return {
            "id": self.id, "code": self.code, "name": self.name, "county_code": self.county_code,
            "county_name": self.county_name, "dimension_scores": self.dimension_scores, "score": self.score,
            "topsis": self.topsis, "weighted_sum": self.weighted_sum, "rank": self.rank,
            "rank_p05": self.rank_p05, "rank_p95": self.rank_p95, "p_top_n": self.p_top_n,
            "values": self.values, "imputed": self.imputed,
        }


@dataclass
class Ranking:
    """A priority ranking with everything needed to explain it."""

    pack: dict
    year: int | None
    method: str
    top_n: int
    dimensions: list[dict]  # id, title_zh, title_en, weight (sum of its indicators' combined weights)
    indicators: list[dict]  # column, indicator, labels, dimension, direction, normalisation, reason, weights
    weight_rule: str
    ahp: dict  # dimension weights, lambda_max, CI, CR
    stability: dict  # draws, concentration, seed, note
    clusters: list[RankedCluster]  # best first
    swap: dict | None  # the single weight change swapping last-in and first-out of the top N
    notes: list[dict] = field(default_factory=list)

    def matrix(self) -> dict:
        """The decision matrix used: indicator columns, cluster ids and raw values (None = missing)."""
        cols = [i["column"] for i in self.indicators]
        return {
            "columns": cols,
            "clusters": [c.id for c in self.clusters],
            "values": [[c.values.get(col) for col in cols] for c in self.clusters],
        }

    def to_json(self) -> dict:
        """The JSON of `smecluster rank --format json` and of /api/priority."""
        return {
            "pack": self.pack, "year": self.year, "method": self.method, "top_n": self.top_n,
            "clusters": [c.to_json() for c in self.clusters],
            "weights": {
                "rule": self.weight_rule, "ahp": self.ahp, "dimensions": self.dimensions,
                "indicators": self.indicators,
            },
            "decision_matrix": self.matrix(),
            "stability": self.stability, "swap": self.swap, "notes": self.notes,
        }


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def rank_matrix(pack: PriorityPack, matrix: np.ndarray, subjects: list[dict], year: int | None,
                top_n: int | None = None) -> Ranking:
    """Rank the rows of a raw decision matrix (n subjects x the pack's indicators, NaN = missing)."""
    top_n = top_n or pack.top_n
    specs = pack.indicators()
    columns = [ind.column for _, ind in specs]
    directions = [ind.direction for _, ind in specs]
    groups = [d for d, _ in specs]
    infos = [indicator_info(ind.indicator) for _, ind in specs]
    n, m = matrix.shape
    notes: list[dict] = []
    names = [s["name"] for s in subjects]
    ahp_result = kernel.ahp(pack.weights.ahp, [d.id for d in pack.dimensions], pack.id)
    expert = pack.expert_weights()

    scored = kernel.score(matrix, directions, [ind.normalisation for _, ind in specs], expert,
                          pack.weights.expert_share, pack.weights.entropy_share)
    norm, weights = scored.normalised, scored.weights
    if n == 0:
        notes.append(note("no_clusters"))
    elif n == 1:
        notes.append(note("single_cluster"))
    else:
        if "objective_undefined" in weights.notes:
            notes.append(note("objective_undefined"))
        for j in np.flatnonzero(norm.constant):
            notes.append(note("constant", column=columns[j], label=infos[j].label_en, label_zh=infos[j].label_zh,
                              value=_fmt(norm.filled[0, j])))
    for j in np.flatnonzero(norm.imputed.any(axis=0)) if n > 1 else []:
        missing = [names[i] for i in np.flatnonzero(norm.imputed[:, j])]
        notes.append(note("imputed", column=columns[j], label=infos[j].label_en, label_zh=infos[j].label_zh,
                          count=len(missing), clusters="、".join(missing)))
    w = weights.combined
    topsis, wsum = scored.topsis, scored.weighted_sum
    score = topsis if pack.method == "topsis" else wsum
    rank = kernel.ranks(score) if n else np.zeros(0, dtype=int)
    if n > 1 and np.all(norm.constant):
        notes.append(note("all_equal"))
    dims = kernel.dimension_scores(norm.values, w, groups, len(pack.dimensions)) if n else np.zeros((0, 5))
    if n == 1:
        dims = np.ones_like(dims)
    st = pack.stability
    stab = kernel.stability(norm.values, w, top_n, st.draws, st.concentration, st.seed)
    if n == 1:
        stab.rank_p05 = stab.rank_p95 = stab.rank_median = np.ones(1, dtype=int)
        stab.p_top_n = np.ones(1)
    order = np.lexsort((np.arange(n), -score))
    for r in sorted(set(rank.tolist())) if n > 1 else []:
        tied = [names[i] for i in np.flatnonzero(rank == r)]
        if len(tied) > 1 and not np.all(norm.constant):
            notes.append(note("tie", names="、".join(tied), rank=int(r)))
    clusters = []
    for i in order:
        s = subjects[i]
        clusters.append(RankedCluster(
            id=int(s["id"]), code=s.get("code", ""), name=s["name"], county_code=s.get("county_code", ""),
            county_name=s.get("county_name", ""), status=s.get("status", ""),
            values={c: (None if not np.isfinite(matrix[i, j]) else float(matrix[i, j])) for j, c in enumerate(columns)},
            imputed=[columns[j] for j in np.flatnonzero(norm.imputed[i])],
            dimension_scores={d.id: float(dims[i, k]) for k, d in enumerate(pack.dimensions)},
            score=float(score[i]), topsis=float(topsis[i]), weighted_sum=float(wsum[i]), rank=int(rank[i]),
            rank_p05=int(stab.rank_p05[i]), rank_p95=int(stab.rank_p95[i]), rank_median=int(stab.rank_median[i]),
            p_top_n=float(stab.p_top_n[i]),
        ))
    swap = None
    if pack.method == "topsis" and 1 <= top_n < n:
        a, b = int(order[top_n - 1]), int(order[top_n])
        change = kernel.swap_change(norm.values, w, a, b)
        if change is None:
            notes.append(note("no_swap", last_in=names[a], first_out=names[b]))
        else:
            j = change.indicator
            swap = {
                "last_in": {"id": int(subjects[a]["id"]), "name": names[a]},
                "first_out": {"id": int(subjects[b]["id"]), "name": names[b]},
                "indicator": columns[j], "label_en": infos[j].label_en, "label_zh": infos[j].label_zh,
                "weight_from": change.weight_from, "weight_to": change.weight_to,
                "rule": "the other weights are scaled by (1 - new) / (1 - old) so that all still add up to 1",
            }
    dim_weights = np.zeros(len(pack.dimensions))
    np.add.at(dim_weights, np.asarray(groups, dtype=int), w)
    return Ranking(
        pack={"id": pack.id, "version": pack.version, "title": pack.title,
              "effective_from": pack.effective_from.isoformat(), "verified": pack.verified},
        year=year, method=pack.method, top_n=top_n,
        dimensions=[{"id": d.id, "title_zh": d.title_zh, "title_en": d.title_en, "weight": float(dim_weights[k]),
                     "expert_weight": float(ahp_result.weights[k])}
                    for k, d in enumerate(pack.dimensions)],
        indicators=[{
            "column": columns[j], "indicator": ind.indicator, "label_zh": infos[j].label_zh,
            "label_en": infos[j].label_en, "unit": infos[j].unit, "dimension": pack.dimensions[d].id,
            "direction": ind.direction, "normalisation": ind.normalisation, "reason": ind.reason,
            "expert": float(weights.expert[j]), "entropy": float(weights.entropy[j]),
            "critic": float(weights.critic[j]), "objective": float(weights.objective[j]),
            "combined": float(w[j]), "constant": bool(norm.constant[j]),
        } for j, (d, ind) in enumerate(specs)],
        weight_rule=weights.rule,
        ahp={"lambda_max": ahp_result.lambda_max, "ci": ahp_result.ci, "cr": ahp_result.cr,
             "weights": {d.id: float(ahp_result.weights[k]) for k, d in enumerate(pack.dimensions)}},
        stability={"draws": st.draws, "concentration": st.concentration, "seed": st.seed, "top_n": top_n,
                   "method": "Dirichlet(concentration x weights) draws, one batched TOPSIS; ranks 5th-95th "
                             "percentile", "note": st.note},
        clusters=clusters, swap=swap, notes=notes,
    )


def rank_table(table: pl.DataFrame, subjects: list[dict], pack: PriorityPack, year: int | None,
               top_n: int | None = None) -> Ranking:
    """Rank an indicator table (one row per subject, the pack's indicator columns; missing = null)."""
    columns = [ind.column for _, ind in pack.indicators()]
    for c in columns:
        if c not in table.columns:
            table = table.with_columns(pl.lit(None, dtype=pl.Float64).alias(c))
    matrix = table.select([pl.col(c).cast(pl.Float64) for c in columns]).to_numpy().astype(np.float64)
    if matrix.ndim != 2:
        matrix = matrix.reshape(len(subjects), len(columns))
    return rank_matrix(pack, matrix, subjects, year, top_n)


def needed_columns(pack: PriorityPack) -> set[tuple[str, tuple]]:
    """The (indicator, params) pairs the registry must compute for a pack."""
    return {(ind.indicator, tuple(sorted(ind.params.items()))) for _, ind in pack.indicators()}


def rank_snapshot(snapshot, pack: PriorityPack, year: int, top_n: int | None = None,
                  statuses: list[str] | None = None, sql=None) -> Ranking:
    """Rank the snapshot's clusters whose status is one of `statuses` (default: the pack's); `sql`: the
    engine the indicator SQL runs on (analytics.engines; default DuckDB)."""
    from smecluster.analytics.cluster_indicators import compute_cluster_indicators

    statuses = statuses or pack.recommendation.statuses
    clusters = snapshot.frames["cluster"]
    regions = snapshot.frames["region"].select(pl.col("code").alias("county_code"), pl.col("name").alias("county_name"))
    info = (clusters.filter(pl.col("status").is_in(statuses))
            .join(regions, on="county_code", how="left").sort("id"))
    table = compute_cluster_indicators(snapshot, year, needed_columns(pack), sql)
    table = info.select(pl.col("id").alias("cluster_id")).join(table, on="cluster_id", how="left",
                                                               maintain_order="left")
    subjects = [{"id": r["id"], "code": r["code"], "name": r["name"], "county_code": r["county_code"],
                 "county_name": r["county_name"] or "", "status": r["status"]} for r in info.iter_rows(named=True)]
    return rank_table(table, subjects, pack, year, top_n)


def rank_clusters(engine: Engine, pack: str | PriorityPack | None = None, year: int | None = None,
                  top_n: int | None = None, sql=None) -> Ranking:
    """The priority ranking of the registry's recognised clusters (default pack: newest; year: newest
    data); `sql`: the engine the indicator SQL runs on (analytics.engines, e.g. Spark; default DuckDB)."""
    from smecluster.analytics.snapshot import load_snapshot
    from smecluster.services.clusters import latest_year

    pack = pack if isinstance(pack, PriorityPack) else load_priority_pack(pack)
    year = year or latest_year(engine)
    if year is None:
        return rank_matrix(pack, np.zeros((0, len(pack.indicators()))), [], None, top_n)
    # the whole registry: the location quotient compares each county with the province
    snapshot = load_snapshot(engine)
    return rank_snapshot(snapshot, pack, year, top_n, sql=sql)


# ------------------------------------------------------------------------------------ recommendation
@dataclass
class Candidate:
    """A ranked recognised cluster seen against the national pack."""

    cluster: RankedCluster
    outcome: str  # the national pack's outcome: recognised | not_recognised | insufficient_data
    gaps: list[dict]  # criteria not met: id, title, status, gap_en, gap_zh
    recommended: bool

    def to_json(self) -> dict:
        """One row of the recommendation JSON."""
        c = self.cluster
        return {"id": c.id, "code": c.code, "name": c.name, "county_name": c.county_name, "score": c.score,
                "rank": c.rank, "rank_p05": c.rank_p05, "rank_p95": c.rank_p95, "national_outcome": self.outcome,
                "meets_national": self.outcome == "recognised", "recommended": self.recommended, "gaps": self.gaps}


@dataclass
class Recommendation:
    """The recommendation to the national list for one year, and its confirmation if any."""

    year: int  # the recommendation year; the data are those of year - 1 (the last complete year)
    data_year: int | None
    priority_pack: str
    national_pack: str
    quota: int
    candidates: list[Candidate]  # in priority order
    ranking: Ranking
    confirmed: dict | None = None

    @property
    def recommended(self) -> list[Candidate]:
        """The clusters on the list, in order."""
        return [c for c in self.candidates if c.recommended]

    def to_json(self) -> dict:
        """The JSON of `smecluster recommend --format json` and of /api/recommendation."""
        return {"year": self.year, "data_year": self.data_year, "priority_pack": self.priority_pack,
                "national_pack": self.national_pack, "quota": self.quota,
                "recommended": [c.cluster.id for c in self.recommended],
                "candidates": [c.to_json() for c in self.candidates], "confirmed": self.confirmed}


def _gaps(verdict) -> list[dict]:
    out = []
    for r in verdict.criteria:
        if r.role == "condition" and r.status in ("fail", "unknown"):
            out.append({"id": r.id, "title": r.title, "status": r.status, "clause": r.clause,
                        "gap_en": r.gap, "gap_zh": r.gap_zh})
    return out


def recommend(engine: Engine, pack: str | PriorityPack | None = None, year: int | None = None) -> Recommendation:
    """Recognised clusters meeting the national pack, by priority score, cut at the quota of `year`.

    `year` is the recommendation year (default: the newest data year + 1); the ranking and the national
    verdicts use the data of year - 1. Clusters not meeting the national pack are listed with their gaps
    and never recommended; ties at the cut keep pack order (the score's rank, then the cluster id).
    """
    from smecluster.services.clusters import evaluate_clusters, latest_year

    pack = pack if isinstance(pack, PriorityPack) else load_priority_pack(pack)
    rule = pack.recommendation
    newest = latest_year(engine)
    if year is None:
        year = (newest + 1) if newest is not None else date.today().year
    data_year = year - 1
    if newest is None:  # an empty registry: nothing to rank or to recommend
        empty = rank_matrix(pack, np.zeros((0, len(pack.indicators()))), [], None)
        return Recommendation(year=year, data_year=None, priority_pack=pack.id, national_pack=rule.national_pack,
                              quota=rule.quota_for(year), candidates=[], ranking=empty,
                              confirmed=confirmed_recommendation(engine, year))
    ranking = rank_clusters(engine, pack, data_year)
    ids = [c.id for c in ranking.clusters]
    found = evaluate_clusters(engine, rule.national_pack, data_year, ids) if ids else []
    verdicts = {v.cluster["id"]: v for v in found}
    quota = rule.quota_for(year)
    candidates, taken = [], 0
    for c in ranking.clusters:
        v = verdicts.get(c.id)
        outcome = v.outcome if v is not None else "insufficient_data"
        ok = outcome == "recognised" and taken < quota
        taken += ok
        candidates.append(Candidate(cluster=c, outcome=outcome, gaps=_gaps(v) if v is not None else [], recommended=ok))
    return Recommendation(year=year, data_year=data_year if ids else None, priority_pack=pack.id,
                          national_pack=rule.national_pack, quota=quota, candidates=candidates, ranking=ranking,
                          confirmed=confirmed_recommendation(engine, year))


def _home_province() -> str:
    """The two-digit code of the province this installation serves."""
    from smecluster.settings import province

    return province().code


def confirmed_recommendation(engine: Engine, year: int, province_code: str | None = None) -> dict | None:
    """What the province administrator confirmed for `year` (None if not yet); the province is the
    configured one (smecluster.settings) unless `province_code` names another."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from smecluster.accounts.models import Account
    from smecluster.workflow.recommendations import NationalRecommendation

    with Session(engine) as session:
        row = session.execute(
            select(NationalRecommendation, Account.username)
            .outerjoin(Account, Account.id == NationalRecommendation.confirmed_by)
            .where(NationalRecommendation.year == year,
                   NationalRecommendation.province_code == (province_code or _home_province()))
        ).first()
        if row is None:
            return None
        rec, username = row
        return {"year": rec.year, "province_code": rec.province_code, "priority_pack": rec.priority_pack,
                "national_pack": rec.national_pack, "quota": rec.quota, "stage": rec.stage, "clusters": rec.clusters,
                "version": rec.version,
                "confirmed_by": username, "confirmed_at": rec.confirmed_at.isoformat(timespec="seconds")}


def confirm_recommendation(engine: Engine, who: Any, year: int, expected: list[int],
                           pack: str | PriorityPack | None = None) -> dict:
    """The province administrator confirms the list of `year` (a workflow stage, audited).

    `expected` is the list of cluster ids the administrator saw; if the computed list differs (the
    registry changed meanwhile) nothing is stored and RecommendationError (workflow.recommendations)
    says so. Confirming a year again replaces the stored list and bumps its version; both are in the audit trail.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from smecluster.workflow import audit
    from smecluster.workflow.recommendations import (
        CHANGED,
        NOT_PROVINCE,
        NOTHING,
        NationalRecommendation,
        RecommendationError,
    )

    if getattr(who, "role", None) != "province_admin":
        raise RecommendationError(NOT_PROVINCE, 403)
    rec = recommend(engine, pack, year)
    listed = [c.cluster.id for c in rec.recommended]
    if not listed:
        raise RecommendationError(NOTHING)
    if list(expected) != listed:
        raise RecommendationError(CHANGED, 409)
    clusters = [{"id": c.cluster.id, "code": c.cluster.code, "name": c.cluster.name, "score": c.cluster.score,
                 "rank": c.cluster.rank} for c in rec.recommended]
    home = (getattr(who, "region_code", None) or "")[:2] or _home_province()
    with Session(engine) as session, session.begin():
        row = session.scalars(select(NationalRecommendation).where(
            NationalRecommendation.year == year, NationalRecommendation.province_code == home)).first()
        now = audit.utcnow()
        if row is None:
            row = NationalRecommendation(province_code=home, year=year, priority_pack=rec.priority_pack,
                                         national_pack=rec.national_pack, quota=rec.quota, stage="confirmed",
                                         clusters=clusters, version=1, confirmed_by=who.id, confirmed_at=now)
            session.add(row)
        else:
            row.priority_pack, row.national_pack, row.quota = rec.priority_pack, rec.national_pack, rec.quota
            row.clusters, row.version, row.confirmed_by, row.confirmed_at = clusters, row.version + 1, who.id, now
        session.flush()
        audit.record(session, who.username, "recommendation.confirm", f"recommendation:{year}",
                     {"clusters": [c["code"] for c in clusters], "quota": rec.quota, "version": row.version,
                      "priority_pack": rec.priority_pack, "national_pack": rec.national_pack})
    return confirmed_recommendation(engine, year, home)
