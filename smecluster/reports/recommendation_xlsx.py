"""The province's recommendation summary (推荐汇总表) as a workbook, from services.priority.recommend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smecluster.reports.dossier_xlsx import table_xlsx
from smecluster.reports.sections import Section

OUTCOME_ZH = {"recognised": "符合", "not_recognised": "不符合", "insufficient_data": "数据不足"}


def recommendation_sections(rec: Any) -> list[Section]:
    """Summary (recommended first, in priority order), every candidate with its gaps, and the weights."""
    listed = [[i, c.cluster.name, c.cluster.county_name, f"{c.cluster.score:.4f}", c.cluster.rank,
               f"{c.cluster.rank_p05}-{c.cluster.rank_p95}"] for i, c in enumerate(rec.recommended, start=1)]
    confirmed = rec.confirmed
    note = (f"{rec.year}年推荐名额{rec.quota}个；优先支持评价 {rec.priority_pack}，国家条件 {rec.national_pack}，"
            f"数据年度{rec.data_year}。" + (f"已由{confirmed['confirmed_by']}于{confirmed['confirmed_at']}确认（第"
                                          f"{confirmed['version']}版）。" if confirmed else "尚未经省级确认。"))
    candidates = [[c.cluster.rank, c.cluster.name, c.cluster.county_name, f"{c.cluster.score:.4f}",
                   OUTCOME_ZH.get(c.outcome, c.outcome), "是" if c.recommended else "否",
                   "；".join(f"{g['id']} {g['gap_zh'] or g['title']}" for g in c.gaps)] for c in rec.candidates]
    weights = [[d["title_zh"], f"{d['weight']:.4f}", f"{d['expert_weight']:.4f}"] for d in rec.ranking.dimensions]
    return [
        Section("推荐汇总表", ["序号", "集群名称", "所在县级区划", "综合得分", "排名", "排名区间(5%-95%)"], listed,
                note=note),
        Section("候选集群与差距", ["排名", "集群名称", "所在县级区划", "综合得分", "国家条件", "推荐", "差距"],
                candidates),
        Section("维度权重", ["维度", "组合权重", "专家权重(AHP)"], weights, note=rec.ranking.weight_rule),
    ]


def recommendation_xlsx(rec: Any, path: Path | str | None = None) -> bytes:
    """The recommendation summary as an Excel file (formula-safe, one sheet per table)."""
    return table_xlsx(recommendation_sections(rec), path)
