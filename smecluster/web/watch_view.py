"""The re-review watch for the web: computed once per registry state and year, cut to each viewer's region,
and ECharts options for the trend charts (decision 1330)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select

from smecluster.accounts.roles import region_prefix
from smecluster.registry.cluster_report import ClusterReport
from smecluster.registry.version import current_version
from smecluster.services.watch import Watch, compute_watch
from smecluster.workflow.models import Transition


class WatchCache:
    """The province's watch per calendar year, recomputed when the registry, the workflow or the reports
    changed (a registry write bumps its version; workflow actions and reports add rows)."""

    def __init__(self, engine: Engine, today=date.today) -> None:
        self.engine = engine
        self.today = today
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[tuple, Watch]] = {}

    def _stamp(self) -> tuple:
        with self.engine.connect() as conn:
            transitions = conn.execute(select(func.max(Transition.id))).scalar()
            reports = conn.execute(select(func.count()).select_from(ClusterReport)).scalar()
        return current_version(self.engine), transitions, reports, self.today()

    def get(self, year: int | None) -> Watch:
        """The watch of `year` (default: this year) over every recognised cluster of the province."""
        year = year or self.today().year
        stamp = self._stamp()
        with self._lock:
            found = self._cache.get(year)
            if found is None or found[0] != stamp:
                found = (stamp, compute_watch(self.engine, year=year, today=self.today()))
                self._cache[year] = found
            return found[1]


def for_region(watch: Watch, code: str) -> Watch:
    """The watch cut to the clusters inside region `code`."""
    prefix = region_prefix(code)
    return replace(watch, clusters=[c for c in watch.clusters if c["county_code"].startswith(prefix)])


def trend_option(entry: dict[str, Any], title: str) -> dict:
    """An ECharts line chart of a watch entry: each criterion's value as a share of its threshold (100% =
    the threshold, above it met), the years and the projection to the re-review year dashed."""
    from smecluster.reports.dossier_charts import SHOWN_MAX, charted, share

    criteria = charted(entry["criteria"])
    years = sorted({int(y) for c in criteria for y in c["values"]})
    end = entry.get("re_review_year")
    axis = list(range(years[0], max(years[-1], end or years[-1]) + 1)) if years else []
    series = []
    for c in criteria:
        values = {int(y): v for y, v in c["values"].items()}
        risky = c["at_risk"] and c.get("condition_at_risk", True)
        series.append({
            "name": c["id"], "type": "line", "lineStyle": {"width": 3 if risky else 1.5},
            "data": [round(share(c, values[y]), 4) if values.get(y) is not None else None for y in axis],
        })
        if end and c.get("projected") is not None and years:
            series.append({
                "name": c["id"], "type": "line", "lineStyle": {"type": "dashed"}, "symbol": "none",
                "data": [round(share(c, values[years[-1]]), 4) if y == years[-1] and values.get(y) is not None
                         else round(share(c, c["projected"]), 4) if y == end else None for y in axis],
                "connectNulls": True,
            })
    series.append({"name": "100%", "type": "line", "symbol": "none", "data": [1.0] * len(axis),
                   "lineStyle": {"color": "#b42318"}})
    return {
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "data": [c["id"] for c in criteria]},
        "xAxis": {"type": "category", "data": [str(y) for y in axis]},
        "yAxis": {"type": "value", "max": SHOWN_MAX, "axisLabel": {"formatter": "{value}"}},
        "series": series,
    }
