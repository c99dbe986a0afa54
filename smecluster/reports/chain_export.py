"""Chain coverage and partners as workbooks (formula-safe: registry text never starts a formula)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from smecluster.safe_text import safe_cell

COVERAGE_HEADERS = ("层级 level", "范围 scope", "产业链 chain", "环节 link", "名称 name", "环节段 segment",
                    "关键环节 key", "状态 status", "企业数 firms", "产值(万元) output", "梯度企业 tier firms",
                    "最大企业占比 top share")
PARTNER_HEADERS = ("产业链 chain", "环节 link", "名称 name", "状态 status", "统一社会信用代码 uscc", "企业 firm",
                   "县区 county", "同市 same city", "相邻县区 neighbour", "距离(公里) km", "梯度 tier", "规模 size",
                   "产值(万元) output", "依据 via", "证据 evidence")


def _save(path: Path, sheets: dict[str, tuple[tuple[str, ...], list[list]]]) -> Path:
    wb = Workbook(write_only=True)
    for name, (headers, rows) in sheets.items():
        ws = wb.create_sheet(name[:31])
        ws.append(list(headers))
        for row in rows:
            ws.append([safe_cell(v) for v in row])
    wb.save(path)
    return Path(path)


def coverage_xlsx(path: Path, results: list[dict]) -> Path:
    """One row per (scope, chain, link) on a sheet 覆盖 coverage; the summaries on 汇总 summary."""
    rows = [[r["scope"]["level"], r["scope"]["name"], r["chain"]["title"], link["id"], link["name"], link["segment"],
             "是" if link["key"] else "", link["status"], link["firms"], link["output"], link["tier_firms"],
             link["top_share"]] for r in results for link in r["links"]]
    totals = [[r["scope"]["level"], r["scope"]["name"], r["chain"]["title"], r["summary"]["links"],
               r["summary"]["present"], r["summary"]["weak"], r["summary"]["missing"], r["summary"]["coverage_share"]]
              for r in results]
    return _save(path, {"覆盖 coverage": (COVERAGE_HEADERS, rows),
                        "汇总 summary": (("层级 level", "范围 scope", "产业链 chain", "环节 links", "具备 present",
                                          "薄弱 weak", "缺失 missing", "覆盖率 coverage share"), totals)})


def partners_xlsx(path: Path, found: dict) -> Path:
    """One row per candidate firm of each weak or missing link."""
    rows = [[g["chain_id"], g["link_id"], g["name"], g["status"], p["uscc"], p["name"], p["county_name"],
             "是" if p["same_city"] else "", "是" if p["neighbour"] else "", p["distance_km"], p["tier"], p["size"],
             p["output"], p["via"], p["evidence"]] for g in found["gaps"] for p in g["partners"]]
    return _save(path, {"补链伙伴 partners": (PARTNER_HEADERS, rows)})


def related_xlsx(path: Path, found: dict) -> Path:
    """The industries a county could grow into, and its specialisations."""
    options = [[o["code"], o["name"], o["density"], o["lq"], o["ubiquity"]] for o in found["options"]]
    special = [[s["code"], s["name"], s["lq"]] for s in found["specialised"]]
    return _save(path, {"可培育产业 options": (("行业代码 code", "行业 industry", "密度 density", "区位商 LQ",
                                                "普遍度 ubiquity"), options),
                        "优势产业 specialised": (("行业代码 code", "行业 industry", "区位商 LQ"), special)})
