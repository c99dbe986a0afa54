"""What a cluster dossier holds, gathered for many clusters at once (decision 1328).

One snapshot is read for all the clusters asked for; the verdicts, the criteria over the years and
the members come from whole-column work over it. The writers (smecluster.reports.dossier_*) only lay
the gathered data out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from smecluster.analytics.snapshot import load_snapshot
from smecluster.policy.pack import load_pack
from smecluster.policy.validity import cluster_date, held_sql
from smecluster.registry.models import Cluster, Region
from smecluster.services.clusters import evaluate_snapshot, latest_year
from smecluster.services.watch import (
    Recognition,
    cluster_entry,
    criteria_tables,
    filed_reports,
    recognitions,
    report_rows,
    watch_margin,
)
from smecluster.settings import province
from smecluster.workflow.definition import load_workflow

# Designation kinds as the dossier names them.
KIND_ZH = {"single_champion": "制造业单项冠军", "little_giant": "专精特新\"小巨人\"", "srdi_sme": "专精特新中小企业",
           "innovative_sme": "创新型中小企业", "high_tech": "高新技术企业", "tech_sme": "科技型中小企业"}
LEVEL_ZH = {"national": "国家级", "provincial": "省级", "city": "市级"}


@dataclass
class Dossier:
    """One cluster's dossier: verdict, criteria over the years, risk, members, platforms, scores."""

    cluster: dict[str, Any]
    verdict: dict[str, Any]
    watch: dict[str, Any]  # services.watch.cluster_entry (re_review_year None when not recognised)
    years: list[int]
    members: pl.DataFrame  # uscc, name, industry_code, county_code, output, employees, designations
    platforms: pl.DataFrame  # name, level, type, year
    scores: dict[str, Any] | None  # five-dimension priority scores, once the priority pack exists
    generated_on: date
    notes: list[str] = field(default_factory=list)


class UnknownCluster(ValueError):
    """A cluster id the registry does not hold."""


def gather(engine: Engine, cluster_ids: list[int] | None = None, today: date | None = None,
           data_year: int | None = None) -> list[Dossier]:
    """Dossiers of the clusters named (all when None), in id order."""
    today = today or date.today()
    workflow = load_workflow()
    pack = load_pack(province().cluster_policy)
    with Session(engine) as s:
        known = s.execute(select(Cluster.id, Cluster.code, Cluster.name, Cluster.county_code, Cluster.status,
                                 Cluster.year).order_by(Cluster.id)).all()
        if cluster_ids is not None:
            missing = sorted(set(cluster_ids) - {r.id for r in known})
            if missing:
                raise UnknownCluster(f"no cluster with id {', '.join(map(str, missing))}")
            known = [r for r in known if r.id in set(cluster_ids)]
        names = dict(s.execute(select(Region.code, Region.name)).all())
        recognised = {r.cluster_id: r for r in recognitions(s, workflow)}
        filed = filed_reports(s, list(recognised))
    data_year = data_year or latest_year(engine) or today.year - 1  # no yearly data yet: values unknown
    if not known:
        return []
    ids = [r.id for r in known]
    recs = [recognised.get(r.id) or Recognition(r.id, r.code, r.name, r.county_code, names.get(r.county_code, ""),
                                                r.status, None, None, None, False) for r in known]
    snapshot = load_snapshot(engine, ids, scope="clusters")
    verdicts = {int(v.cluster["id"]): v for v in evaluate_snapshot(snapshot, pack, data_year)}
    tables = criteria_tables(snapshot, pack, recs, data_year, watch_margin(workflow))
    members = member_table(snapshot, data_year)
    platforms = platform_table(snapshot)
    scores = priority_scores(engine, ids)
    out = []
    for rec in recs:
        reports = report_rows(rec, filed, workflow, today.year, today) if rec.re_review_year else []
        verdict = verdicts[rec.cluster_id].to_dict()
        out.append(Dossier(
            cluster={**verdict["cluster"], "stage": rec.stage},
            verdict=verdict,
            watch=cluster_entry(rec, pack, tables, reports),
            years=sorted(tables.years),
            members=members.filter(pl.col("cluster_id") == rec.cluster_id).drop("cluster_id"),
            platforms=platforms.filter(pl.col("cluster_id") == rec.cluster_id).drop("cluster_id"),
            scores=scores.get(rec.cluster_id),
            generated_on=today,
        ))
    return out


def member_table(snapshot, year: int) -> pl.DataFrame:
    """Every member of the snapshot's clusters with its output, staff and the designations it holds on
    the cluster evaluation date of `year`."""
    con = snapshot.connect()
    return con.sql(
        "SELECT m.cluster_id, e.uscc, e.name, e.industry_code, e.county_code, y.output, y.employees, "
        "(SELECT STRING_AGG(DISTINCT d.kind, ',' ORDER BY d.kind) FROM designation d WHERE d.uscc = e.uscc "
        f"AND {held_sql(cluster_date(year), 'd')}) AS designations "
        "FROM cluster_member m JOIN enterprise e ON e.uscc = m.uscc "
        f"LEFT JOIN enterprise_year y ON y.uscc = e.uscc AND y.year = {int(year)} "
        "ORDER BY m.cluster_id, y.output DESC NULLS LAST, e.uscc"
    ).pl()


def platform_table(snapshot) -> pl.DataFrame:
    """The platforms of each cluster: linked to it, or hosted by a member (as the platform indicator counts)."""
    con = snapshot.connect()
    return con.sql(
        "SELECT DISTINCT cluster_id, name, level, type, year FROM ("
        "SELECT p.cluster_id, p.name, p.level, p.type, p.year FROM platform p WHERE p.cluster_id IS NOT NULL "
        "UNION ALL SELECT m.cluster_id, p.name, p.level, p.type, p.year FROM platform p "
        "JOIN cluster_member m ON m.uscc = p.host_uscc) t ORDER BY cluster_id, level, name"
    ).pl()


def priority_scores(engine: Engine, cluster_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Cluster id -> its five-dimension priority scores, score, rank and rank interval (ranked clusters only).

    One ranking of the recognised clusters (services.priority, issue 11 parts 1-3) serves every
    dossier; a cluster outside it (not recognised) gets the marked placeholder section instead.
    """
    from smecluster.services.priority import rank_clusters

    try:
        ranking = rank_clusters(engine)
    except ValueError:  # no priority pack usable: the dossiers say the section is pending
        return {}
    titles = {d["id"]: d["title_zh"] for d in ranking.dimensions}
    wanted = set(cluster_ids)
    return {
        c.id: {"dimensions": {titles[k]: v for k, v in c.dimension_scores.items()}, "score": c.score,
               "rank": c.rank, "rank_p05": c.rank_p05, "rank_p95": c.rank_p95, "of": len(ranking.clusters),
               "method": ranking.method, "pack": ranking.pack["id"], "year": ranking.year}
        for c in ranking.clusters if c.id in wanted
    }
