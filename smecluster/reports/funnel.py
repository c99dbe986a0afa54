"""The tier funnel as an ECharts option (JSON-ready dict) for the web page to embed."""

from __future__ import annotations

from smecluster.policy.tiers import tiers


def funnel_option(designated: dict[str, int], qualifying: dict[str, int] | None = None,
                  title: str = "优质中小企业梯度培育漏斗 / tier funnel") -> dict:
    """An ECharts funnel: designated firms per tier, and (optional) firms that qualify by rule."""
    order = list(tiers())
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
