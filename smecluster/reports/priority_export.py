"""A priority ranking as a workbook: ranking, weights and decision matrix, each on its own sheet."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Font

from smecluster.safe_text import safe_frame


def ranking_frames(ranking) -> dict[str, pl.DataFrame]:
    """The ranking's tables (Chinese headers), ready for a workbook."""
    dims = ranking.dimensions
    rows = []
    for c in ranking.clusters:
        row = {"排名": c.rank, "集群编号": c.code, "集群名称": c.name, "县级区划": c.county_name,
               "得分": round(c.score, 6), "TOPSIS": round(c.topsis, 6), "加权和": round(c.weighted_sum, 6),
               "排名P05": c.rank_p05, "排名P95": c.rank_p95, f"进入前{ranking.top_n}概率": round(c.p_top_n, 4)}
        row.update({d["title_zh"]: round(c.dimension_scores[d["id"]], 6) for d in dims})
        rows.append(row)
    weights = pl.DataFrame([{
        "维度": i["dimension"], "指标": i["label_zh"], "列": i["column"], "方向": i["direction"],
        "标准化": i["normalisation"], "专家权重": i["expert"], "熵权": i["entropy"], "CRITIC": i["critic"],
        "组合权重": i["combined"], "理由": i["reason"]} for i in ranking.indicators])
    matrix = ranking.matrix()
    columns = matrix["columns"]
    names = {c.id: c.name for c in ranking.clusters}
    mrows = [{"集群": names[cid], **dict(zip(columns, vals, strict=True))}
             for cid, vals in zip(matrix["clusters"], matrix["values"], strict=True)]
    schema = {"集群": pl.Utf8, **{c: pl.Float64 for c in columns}}
    return {"排名": pl.DataFrame(rows), "权重": weights, "决策矩阵": pl.DataFrame(mrows, schema=schema)}


def write_xlsx(ranking, path: Path | str) -> Path:
    """Write the ranking workbook (formula-safe text, bold headers)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in ranking_frames(ranking).items():
        ws = wb.create_sheet(name)
        frame = safe_frame(frame)
        ws.append(frame.columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in frame.iter_rows():
            ws.append(list(row))
        ws.freeze_panes = "A2"
    wb.save(path)
    return Path(path)
