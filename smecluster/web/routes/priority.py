"""Priority support and the national recommendation: pages and their JSON twins.

/priority (and /api/priority): the ranking of recognised clusters with weights, radar and rank intervals,
for the provincial, city and county bureaus (rows cut to the viewer's region). /recommendation (and
/api/recommendation): the list for the national batch; the provincial department confirms it (a form
with CSRF, or POST /api/recommendation/confirm), which is stored and audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from smecluster.web.priority_view import chart_data, ranking_for
from smecluster.web.routes.overview import OVERVIEW_ROLES
from smecluster.web.security import Viewer, allow, check_csrf
from smecluster.web.tables import TableSpec, table_page
from smecluster.web.templating import render

router = APIRouter()
YEAR = Query(None, ge=2000, le=2100, description="Data year (ranking) or recommendation year (default: newest)")
PROVINCE = ("province_admin",)
RANKING_TABLE = TableSpec("ranking", ("rank", "name", "county_code", "score", "weighted_sum", "p_top_n"), "rank",
                          search=("name", "county_name", "county_code"))


def _ranking(request: Request, year: int | None):
    with request.app.state.heavy.slot():
        return request.app.state.priority.rankings.get(year)


def _recommendation(request: Request, year: int | None):
    with request.app.state.heavy.slot():
        return request.app.state.priority.recommendations.get(year)


@router.get("/priority", response_class=HTMLResponse, name="priority_page")
def priority_page(request: Request, year: int | None = YEAR, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """The priority ranking: weights, table, a radar per cluster and the rank intervals."""
    data = ranking_for(_ranking(request, year), who)
    table = table_page(RANKING_TABLE, data["clusters"], request.query_params)
    return render(request, "priority.html", {"r": data, "ranking": table,
                                             "chart_data": chart_data(data, request.state.locale)})


@router.get("/api/priority", name="api_priority")
def api_priority(request: Request, year: int | None = YEAR, who: Viewer = Depends(allow(*OVERVIEW_ROLES))) -> dict:
    """The ranking as `smecluster rank --format json` gives it, cut to the clusters of the viewer's region."""
    return ranking_for(_ranking(request, year), who)


def _rec_json(request: Request, year: int | None) -> dict:
    return _recommendation(request, year).to_json()


@router.get("/recommendation", response_class=HTMLResponse, name="recommendation_page")
def recommendation_page(request: Request, year: int | None = YEAR, who: Viewer = Depends(allow(*PROVINCE))):
    """The recommendation to the national list, with the confirmation form."""
    return render(request, "recommendation.html", {"rec": _rec_json(request, year), "error": None})


@router.get("/api/recommendation", name="api_recommendation")
def api_recommendation(request: Request, year: int | None = YEAR, who: Viewer = Depends(allow(*PROVINCE))) -> dict:
    """The recommendation as `smecluster recommend --format json` gives it."""
    return _rec_json(request, year)


def _confirm(request: Request, who: Viewer, year: int, expected: list[int]) -> dict:
    from smecluster.services.priority import confirm_recommendation
    from smecluster.web.i18n import localize
    from smecluster.workflow.recommendations import RecommendationError

    try:
        with request.app.state.heavy.slot():
            done = confirm_recommendation(request.app.state.engine, who, year, expected)
    except RecommendationError as exc:
        if exc.status == 409:
            request.app.state.priority.invalidate()
        raise HTTPException(status_code=exc.status, detail=localize(request.state.locale, exc)) from None
    request.app.state.priority.recommendations.invalidate()
    request.app.state.national.invalidate()  # the ministry's view of this province changed
    return done


@router.post("/recommendation/confirm", name="recommendation_confirm", dependencies=[Depends(check_csrf)])
def recommendation_confirm(
    request: Request,
    year: int = Form(..., ge=2000, le=2100),
    clusters: str = Form("", max_length=4000, pattern=r"^[0-9,]*$"),
    who: Viewer = Depends(allow(*PROVINCE)),
):
    """Confirm the list shown (its cluster ids in order); a list changed meanwhile is refused (409)."""
    expected = [int(x) for x in clusters.split(",") if x]
    try:
        _confirm(request, who, year, expected)
    except HTTPException as exc:
        rec = _rec_json(request, year)
        return render(request, "recommendation.html", {"rec": rec, "error": exc.detail}, exc.status_code)
    return RedirectResponse(f"/recommendation?year={year}", status_code=303)


class ConfirmRequest(BaseModel):
    """The list the administrator saw: the recommendation year and the cluster ids in order."""

    year: int = Field(ge=2000, le=2100)
    clusters: list[int] = Field(max_length=500)


@router.post("/api/recommendation/confirm", name="api_recommendation_confirm", dependencies=[Depends(check_csrf)])
def api_recommendation_confirm(request: Request, body: ConfirmRequest, who: Viewer = Depends(allow(*PROVINCE))):
    """Confirm the recommendation (403 for other roles, 409 when the list changed since it was read)."""
    return _confirm(request, who, body.year, body.clusters)
