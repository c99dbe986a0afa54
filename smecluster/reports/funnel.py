"""The tier funnel as an ECharts option (JSON-ready dict) for the web page to embed."""

from __future__ import annotations

from dataclasses import replace

from smecluster.policy.tiers import tiers


def funnel_option(designated: dict[str, int], qualifying: dict[str, int] | None = None,
                  title: str = "优质中小企业梯度培育漏斗 / tier funnel", labels: dict[str, str] | None = None) -> dict:
    """An ECharts funnel: designated firms per tier, and (optional) firms that qualify by rule.

    `labels` names tiers by the packs applied (科技和创新型中小企业 from 2026-04-01), else tiers.yaml."""
    order = [replace(t, label_zh=(labels or {}).get(t.kind, t.label_zh)) for t in tiers()]
    series = [{
        "name": "已认定 / designated", "type": "funnel", "sort": "descending", "left": "5%", "width": "42%",
        "label": {"show": True, "position": "inside", "formatter": "{b}\n{c}"},
        "data": [{"name": t.label_zh, "value": int(designated.get(t.kind, 0))} for t in order],
    }]
    if qualifying is not None:
        series.append({
            "name": "符合条件 / qualifying", "type": "funnel", "sort": "descending", "left": "53%", "width": "42%",
            "label": {"show": True, "position": "inside", "formatter": "{b}\n{c}"},
            "data": [{"name": t.label_zh, "value": int(qualifying.get(t.kind, 0))} for t in order],
        })
    return {
        "title": {"text": title, "left": "center"},
        "tooltip": {"trigger": "item", "formatter": "{a}<br/>{b}: {c}"},
        "legend": {"bottom": 0, "data": [s["name"] for s in series]},
        "series": series,
    }


def target_option(target: dict) -> dict:
    """An ECharts line chart of one target's progress (an entry of services.targets.target_progress).

    Yearly counts, the least-squares projection up to the deadline year, and the target value.
    """
    years = [r["year"] for r in target["by_year"]]
    deadline = int(target["deadline"][:4])
    span = list(range(years[0], max(deadline, years[-1]) + 1)) if years else [deadline]
    slope = target["projection"]["slope_per_year"]
    at = target["projection"]["at_deadline"]
    projected = [round(at - slope * (deadline - y), 1) if slope is not None else None for y in span]
    counts = {r["year"]: r["count"] for r in target["by_year"]}
    return {
        "title": {"text": target["title"], "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "data": ["实际 / actual", "预测 / projection", "目标 / target"]},
        "xAxis": {"type": "category", "data": [str(y) for y in span]},
        "yAxis": {"type": "value"},
        "series": [
            {"name": "实际 / actual", "type": "bar", "data": [counts.get(y) for y in span]},
            {"name": "预测 / projection", "type": "line", "data": projected, "lineStyle": {"type": "dashed"}},
            {"name": "目标 / target", "type": "line", "data": [target["value"]] * len(span), "symbol": "none"},
        ],
    }
