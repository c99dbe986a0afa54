"""Candidate clusters found by discovery (density of firm locations per industry), on the county map."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse

from smecluster.accounts.roles import region_prefix
from smecluster.db import session_scope
from smecluster.web.cluster_facts import industry_names
from smecluster.web.routes.overview import OVERVIEW_ROLES
from smecluster.web.security import Viewer, allow
from smecluster.web.tables import TableSpec, table_page
from smecluster.web.templating import render

router = APIRouter()
INDUSTRY = Query(None, pattern=r"^[A-Z]?\d{0,4}$", max_length=5, description="GB/T 4754 industry key")
CANDIDATE_TABLE = TableSpec(
    "candidates",
    ("candidate", "industry", "county_code", "members", "area_km2", "lq_firms", "srdi", "high_tech", "conditions_met"),
    "candidate", search=("industry", "industry_name", "county_name", "county_code"),
)


def _candidates(request: Request, industry: str | None, who: Viewer) -> tuple[str, list[dict]]:
    prefix = region_prefix(who.region_code)
    with request.app.state.heavy.slot():
        features = request.app.state.insight.candidates.get(industry or None)
    mine = [f for f in features if (f["properties"]["county_code"] or "").startswith(prefix)]
    with session_scope(request.app.state.engine) as s:
        names = industry_names(s, {f["properties"]["industry"] for f in mine})
    # the GB/T 4754 name beside each code (a copy: the cached features stay as discovery gave them)
    named = [{**f, "properties": {**f["properties"], "industry_name": names.get(f["properties"]["industry"])}}
             for f in mine]
    return prefix, named


@router.get("/api/discover", name="api_discover", tags=["api"])
def api_discover(request: Request, industry: str | None = INDUSTRY, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """The discovery page as GeoJSON: candidate clusters in the viewer's region, figures and verdicts."""
    _, mine = _candidates(request, industry, who)
    return jsonable_encoder({"type": "FeatureCollection", "industry": industry or None, "features": mine})


@router.get("/discover", response_class=HTMLResponse, name="discover_page")
def discover_page(request: Request, industry: str | None = INDUSTRY, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """Candidates (province: all; city or county: those in its region) with their figures and verdicts."""
    prefix, mine = _candidates(request, industry, who)
    return render(
        request,
        "discover.html",
        {"candidates": table_page(CANDIDATE_TABLE, [f["properties"] for f in mine], request.query_params),
         "industry": industry or "", "prefix": prefix,
         "chart_data": {"type": "FeatureCollection", "features": mine}},
    )
