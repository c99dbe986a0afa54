"""The province's targets: progress by year and region, projection to the deadline, tier funnel, map."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from smecluster.accounts.roles import region_prefix
from smecluster.web.insight import targets_view
from smecluster.web.routes.overview import OVERVIEW_ROLES, REGION, scoped_region
from smecluster.web.security import Viewer, allow
from smecluster.web.templating import render

router = APIRouter()


@router.get("/targets", response_class=HTMLResponse, name="targets_page")
def targets_page(request: Request, region: str | None = REGION, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """Progress towards each target of the targets pack, with the regional split cut to the viewer's region."""
    code = scoped_region(who, region)
    prefix = region_prefix(code)
    with request.app.state.heavy.slot():
        data = request.app.state.insight.targets.get("all")
    view = targets_view(data, prefix)
    chart_data = {
        "targets": [
            {"title": t["title"], "chart": t["chart"],
             "counties": [{"name": r["code"], "value": r["count"]} for r in t["counties"]]}
            for t in view["targets"]
        ],
        "funnel": view["funnel"],
    }
    return render(request, "targets.html", {"t": view, "prefix": prefix, "code": code, "chart_data": chart_data})
