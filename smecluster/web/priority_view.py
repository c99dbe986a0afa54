"""Priority ranking and recommendation for the web: computed once per registry state, cut to the viewer.

The ranking compares every recognised cluster of the province (a rank means nothing over a part of
them), so it is computed province-wide and then only the rows of clusters in the viewer's region are
shown. Results are cached for `ttl` seconds and dropped when a confirmation finds the list changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from smecluster.accounts.roles import covers
from smecluster.web.page_cache import ComputedCache


class PriorityCache:
    """Rankings and recommendations by year (None = the default year)."""

    def __init__(self, engine: Engine, ttl: float = 600.0) -> None:
        from smecluster.services.priority import rank_clusters, recommend

        self.engine = engine
        self.rankings = ComputedCache(lambda year: rank_clusters(engine, year=year), ttl)
        self.recommendations = ComputedCache(lambda year: recommend(engine, year=year), ttl)

    def invalidate(self) -> None:
        """Forget every result (after new data or a changed list)."""
        self.rankings.invalidate()
        self.recommendations.invalidate()


def ranking_for(ranking, who) -> dict[str, Any]:
    """The ranking's JSON with only the clusters in the viewer's region (ranks stay province-wide)."""
    data = ranking.to_json()
    visible = {c.id for c in ranking.clusters if covers(who.region_code, c.county_code)}
    data["clusters"] = [c for c in data["clusters"] if c["id"] in visible]
    matrix = data["decision_matrix"]
    keep = [i for i, cid in enumerate(matrix["clusters"]) if cid in visible]
    matrix["clusters"] = [matrix["clusters"][i] for i in keep]
    matrix["values"] = [matrix["values"][i] for i in keep]
    if data["swap"] and not {data["swap"]["last_in"]["id"], data["swap"]["first_out"]["id"]} <= visible:
        data["swap"] = None
    data["notes"] = [n for n in data["notes"] if n["code"] not in ("imputed", "tie")] + [
        n for n in data["notes"] if n["code"] in ("imputed", "tie") and who.role == "province_admin"
    ]
    data["visible"] = len(visible)
    data["ranked"] = len(ranking.clusters)
    return data


def chart_data(data: dict[str, Any], locale: str) -> dict[str, Any]:
    """What the page's charts read: radar axes and values per cluster, rank intervals."""
    zh = locale == "zh"
    dims = data["weights"]["dimensions"]
    return {
        "axes": [d["title_zh"] if zh else d["title_en"] for d in dims],
        "radars": [{"id": c["id"], "name": c["name"],
                    "values": [round(c["dimension_scores"][d["id"]], 4) for d in dims]} for c in data["clusters"]],
        "intervals": [{"name": c["name"], "rank": c["rank"], "p05": c["rank_p05"], "p95": c["rank_p95"]}
                      for c in data["clusters"]],
        "ranked": data["ranked"],
    }


def cluster_radar(app: Any, cluster_id: int, locale: str) -> dict[str, Any] | None:
    """The five-dimension radar of one recognised cluster for its page (None when it is not ranked,
    or the registry has no year to rank)."""
    cache = getattr(app.state, "priority", None)
    if cache is None:
        return None
    from fastapi import HTTPException

    try:
        with app.state.heavy.slot():  # the first view computes the ranking (cached afterwards)
            data = cache.rankings.get(None).to_json()
    except (LookupError, ValueError, HTTPException):  # nothing to rank, or the server busy: no radar
        return None
    data["clusters"] = [c for c in data["clusters"] if c["id"] == cluster_id]
    if not data["clusters"]:
        return None
    data["ranked"] = len(data["clusters"])
    out = chart_data(data, locale)
    out["intervals"] = []
    cluster = data["clusters"][0]
    out["score"], out["rank"] = cluster["score"], cluster["rank"]
    return out
