"""The content of a dossier and of the yearly watch report as sections of plain tables, laid out the
same way by the Word, Excel and PDF writers (so the three files never say different things)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smecluster.services.dossiers import KIND_ZH, LEVEL_ZH, Dossier
from smecluster.values import format_value

STATUS_ZH = {"pass": "满足", "fail": "不满足", "warn": "需说明", "unknown": "待补充", "not_assessed": "需评审",
             None: "—"}
OUTCOME_ZH = {"recognised": "符合认定条件", "not_recognised": "不符合认定条件", "insufficient_data": "数据不足"}
STAGE_ZH = {"recognised": "已认定", "re_review": "复核中", "submitted": "已申报", "draft": "草稿",
            "recommended": "市级已推荐", "under_review": "省级评审中", "public_notice": "公示中",
            "rejected": "未通过", "revoked": "已撤销", "returned": "已退回"}
REPORT_ZH = {"on_time": "按时提交", "late": "逾期提交", "missing": "逾期未交", "not_due": "未到期"}
SCORES_PENDING = ("【待补充】五个维度评分（主导产业优势、创新活力、数字化转型、绿色化升级、开放合作）只对参加优先支持"
                  "评价的已认定集群计算；本集群尚未参加排序，认定后本节列出各维度得分、综合得分和排名。")


@dataclass
class Section:
    """A heading, an optional paragraph, and a table (header and rows of text or numbers)."""

    title: str
    header: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    widths: list[float] | None = None  # relative column widths
    pending: bool = False  # a section marked as not yet available


def fmt(value: Any, unit: str | None = None, plain: bool = False) -> str:
    """A value as the dossier prints it (smecluster.values: shares as percentages, money in 万元 or 亿元;
    `plain` for a column whose header names the unit)."""
    return format_value(value, unit, plain=plain)


def _slope(value: float | None, unit: str) -> str:
    if value is None:
        return "数据不足"
    if unit == "ratio":
        return f"{value * 100:+.2f}个百分点/年"
    return f"{value:+,.2f}/年"


def _walk(criteria: list[dict], depth: int = 0):
    for c in criteria:
        yield depth, c
        yield from _walk(c.get("children", []), depth + 1)


def summary_rows(d: Dossier) -> list[list[str]]:
    """Key facts of the cluster (title page and the summary sheet)."""
    c, v, w = d.cluster, d.verdict, d.watch
    rows = [
        ["集群名称", c["name"]], ["集群编号", c["code"]], ["所在县级区划", f"{c['county_name']}（{c['county_code']}）"],
        ["主导产业代码", "、".join(c["leading_industries"])], ["阶段", STAGE_ZH.get(c["stage"], c["stage"])],
        ["认定政策", f"{v['policy']['title']}（{v['policy']['id']} {v['policy']['version']}）"],
        ["数据年度", str(v["year"])], ["评价结论", OUTCOME_ZH.get(v["outcome"], v["outcome"])],
        ["成员企业数", f"{d.members.height:,}"], ["创新平台数", f"{d.platforms.height:,}"],
    ]
    if w["re_review_year"]:
        rows += [["认定日期", str(w["recognised_on"] or "未记录（按申报年度估计）")],
                 ["有效期至", str(w["valid_until"] or "—")], ["复核年度", str(w["re_review_year"])],
                 ["复核风险", "存在风险：" + "、".join(w["risks"]) if w["at_risk"] else "未发现风险"]]
    rows.append(["生成日期", d.generated_on.isoformat()])
    return rows


def criteria_section(d: Dossier) -> Section:
    """The criteria table: status, value, threshold, clause and gap of every criterion."""
    rows = []
    for depth, c in _walk(d.verdict["criteria"]):
        threshold = ("" if c.get("threshold") is None
                     else f"{c.get('comparator') or ''} {fmt(c['threshold'], c.get('unit'))}")
        title = ("　" * depth) + c["title"] + ("（未核实）" if not c.get("verified", True) else "")
        rows.append([c["id"], title, c.get("clause") or "", fmt(c.get("value"), c.get("unit")), threshold,
                     STATUS_ZH.get(c["status"], c["status"]), c.get("gap_zh") or ""])
    return Section("认定条件逐项评价", ["编号", "条件", "条款原文", "数值", "门槛", "结论", "差距"], rows,
                   note="缺少数据从不视为满足；标注“未核实”的门槛来自未经核实的参数。",
                   widths=[0.6, 2.2, 3.2, 1.1, 1.1, 0.9, 2.4])


def _risk_word(c: dict) -> str:
    if c["at_risk"] and c.get("condition_at_risk", True):
        return "有风险"
    return "接近门槛（另一选项满足）" if c["at_risk"] else ""


def history_section(d: Dossier) -> Section:
    """Each criterion's indicator year by year, its trend and the projection to the re-review year."""
    w = d.watch
    years = d.years
    header = ["编号", "指标", *[str(y) for y in years], "近3年趋势", "复核年预测", "预测结论", "风险"]
    rows = []
    for c in w["criteria"]:
        values = [fmt(c["values"].get(y), c["unit"]) for y in years]
        rows.append([c["id"], c["label_zh"], *values, _slope(c["slope"], c["unit"]),
                     fmt(c["projected"], c["unit"]) if w["re_review_year"] else "—",
                     STATUS_ZH.get(c["projected_status"]) if w["re_review_year"] else "—",
                     _risk_word(c)])
    note = ("趋势为近3年数值的最小二乘斜率；预测为最新数值沿趋势推至复核年度"
            + (f"（{w['re_review_year']}年）" if w["re_review_year"] else "（本集群尚未认定，不作预测）")
            + "。预测不及门槛、或现值/预测值距门槛不足规定幅度的条件标为有风险。")
    return Section("历年指标与趋势", header, rows, note=note)


def scores_section(d: Dossier) -> Section:
    """The five-dimension priority scores, or the marked placeholder when the cluster is not ranked."""
    if not d.scores:
        return Section("五个维度评分", note=SCORES_PENDING, pending=True)
    s = d.scores
    rows = [[name, f"{value:.3f}"] for name, value in s["dimensions"].items()]
    rows += [["综合得分（" + ("TOPSIS贴近度" if s["method"] == "topsis" else "加权和") + "）", f"{s['score']:.4f}"],
             ["排名", f"{s['rank']} / {s['of']}"],
             ["排名区间（权重扰动5%-95%分位）", f"{s['rank_p05']}-{s['rank_p95']}"]]
    return Section("五个维度评分", ["维度", "得分"], rows,
                   note=f"优先支持评价（{s['pack']}，数据年度{s['year']}）：各维度得分为该维度指标标准化值的加权平均。")


def members_section(d: Dossier) -> Section:
    """Every member with output, staff and the designations held."""
    m = d.members
    kinds = [", ".join(KIND_ZH.get(k, k) for k in (x or "").split(",") if k) for x in m["designations"].to_list()]
    rows = [list(r) for r in zip(m["uscc"].to_list(), m["name"].to_list(), m["industry_code"].to_list(),
                                 [fmt(x, "wan_yuan", plain=True) for x in m["output"].to_list()],
                                 [fmt(x, "count") for x in m["employees"].to_list()], kinds, strict=True)]
    header = ["统一社会信用代码", "企业名称", "行业代码", f"工业总产值(万元，{d.verdict['year']})", "从业人员",
              "称号与资质"]
    return Section(f"成员企业（{m.height}家）", header, rows, widths=[1.9, 3.0, 0.8, 1.4, 0.9, 2.0])


def platforms_section(d: Dossier) -> Section:
    """The cluster's innovation platforms."""
    p = d.platforms
    rows = [[n, LEVEL_ZH.get(lv, lv), t, fmt(y, "code")]
            for n, lv, t, y in p.select("name", "level", "type", "year").iter_rows()]
    return Section(f"创新平台（{p.height}个）", ["平台名称", "级别", "类型", "认定年份"], rows,
                   widths=[4.0, 1.0, 2.0, 1.0])


def reports_section(d: Dossier) -> Section | None:
    """The yearly reports owed and filed (recognised clusters only)."""
    if not d.watch["re_review_year"]:
        return None
    rows = [[str(r["year"]), r["due"].isoformat(), r["filed_on"].isoformat() if r["filed_on"] else "—",
             REPORT_ZH[r["state"]]] for r in d.watch["reports"]]
    return Section("年度报告", ["报告年度", "截止日期", "提交日期", "状态"], rows,
                   note="认定集群每年4月30日前报送上一年度发展情况。")


def dossier_sections(d: Dossier) -> list[Section]:
    """Every table of a cluster dossier, in order (the chart goes after the history)."""
    parts = [criteria_section(d), history_section(d), scores_section(d), members_section(d), platforms_section(d),
             reports_section(d)]
    return [s for s in parts if s is not None]


def watch_sections(watch: Any) -> list[Section]:
    """The yearly watch report: clusters due for re-review, clusters at risk, criteria at risk, reports."""
    due = [[c["code"], c["name"], c["county_name"], str(c["valid_until"] or "—"), "是" if c["at_risk"] else "否"]
           for c in watch.due]
    risky = [[c["code"], c["name"], str(c["re_review_year"]), "、".join(c["risks"])] for c in watch.at_risk]
    detail = []
    for c in watch.at_risk:
        for k in c["criteria"]:
            if k["at_risk"] and k["condition_at_risk"]:
                detail.append([c["code"], k["id"], k["label_zh"], fmt(k["latest"], k["unit"]),
                               _slope(k["slope"], k["unit"]), fmt(k["projected"], k["unit"]),
                               f"{k['comparator']} {fmt(k['threshold'], k['unit'])}",
                               STATUS_ZH.get(k["projected_status"])])
    reports = [[c["code"], c["name"], str(r["year"]), r["due"].isoformat(),
                r["filed_on"].isoformat() if r["filed_on"] else "—", REPORT_ZH[r["state"]]]
               for c in watch.clusters for r in c["reports"]]
    overview = [[c["code"], c["name"], c["county_name"], STAGE_ZH.get(c["stage"], c["stage"]), str(c["re_review_year"]),
                 "有风险" if c["at_risk"] else ""] for c in watch.clusters]
    return [
        Section("已认定集群", ["编号", "名称", "县级区划", "阶段", "复核年度", "风险"], overview),
        Section(f"{watch.year}年到期复核的集群", ["编号", "名称", "县级区划", "有效期至", "有风险"], due,
                note="" if due else "本年度没有到期复核的集群。"),
        Section("有复核风险的集群", ["编号", "名称", "复核年度", "有风险的条件"], risky,
                note="" if risky else "未发现有风险的集群。"),
        Section("有风险的条件", ["集群", "编号", "指标", "现值", "近3年趋势", "复核年预测", "门槛", "预测结论"],
                detail),
        Section("年度报告报送情况", ["编号", "名称", "报告年度", "截止日期", "提交日期", "状态"], reports,
                note=f"截止日期为次年{watch.report_due.replace('-', '月', 1)}日。"),
    ]
