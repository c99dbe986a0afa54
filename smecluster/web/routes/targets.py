"""The province's targets: progress by year and region, projection to the deadline, tier funnel, map."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse

from smecluster.accounts.roles import region_prefix
from smecluster.web.formatting import title_in
from smecluster.web.insight import targets_view
from smecluster.web.routes.overview import OVERVIEW_ROLES, REGION, scoped_region
from smecluster.web.security import Viewer, allow
from smecluster.web.tables import TableSpec, table_page
from smecluster.web.templating import render

router = APIRouter()


def _targets(request: Request, region: str | None, who: Viewer) -> tuple[str, str, dict]:
    code = scoped_region(who, region)
    prefix = region_prefix(code)
    with request.app.state.heavy.slot():
        data = request.app.state.insight.targets.get("all")
    return code, prefix, targets_view(data, prefix)


@router.get("/api/targets", name="api_targets", tags=["api"])
def api_targets(request: Request, region: str | None = REGION, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """The targets page as JSON: each target's progress, projection and regional split (viewer's region)."""
    code, prefix, view = _targets(request, region, who)
    return jsonable_encoder({"region": code, "prefix": prefix, **view})


@router.get("/targets", response_class=HTMLResponse, name="targets_page")
def targets_page(request: Request, region: str | None = REGION, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """Progress towards each target of the targets pack, with the regional split cut to the viewer's region."""
    code, prefix, view = _targets(request, region, who)
    chart_data = {
        "targets": [
            {"title": title_in(t["title"], request.state.locale), "chart": t["chart"],
             "counties": [{"name": r["code"], "value": r["count"]} for r in t["counties"]]}
            for t in view["targets"]
        ],
        "funnel": view["funnel"],
    }
    # each target's county table pages on its own (target1_page=2 leaves the others where they are)
    by_county = [
        table_page(TableSpec(f"target{i + 1}", ("code", "count"), "code", search=("code", "name")), t["counties"],
                   request.query_params)
        for i, t in enumerate(view["targets"])
    ]
    return render(request, "targets.html", {"t": view, "prefix": prefix, "code": code, "chart_data": chart_data,
                                             "by_county": by_county})
