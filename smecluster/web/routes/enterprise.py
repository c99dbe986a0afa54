"""The enterprise user's page: its own registry record, designations and clusters."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from smecluster.accounts.enterprise_data import FiguresError, update_own_figures
from smecluster.db import session_scope
from smecluster.registry.models import Cluster, ClusterMember, Designation, Enterprise, EnterpriseYear
from smecluster.web.i18n import localize
from smecluster.web.security import Viewer, allow, check_csrf
from smecluster.web.templating import render
from smecluster.web.verdicts import refresh_cluster

router = APIRouter()


@router.get("/enterprise", response_class=HTMLResponse, name="enterprise_page")
def enterprise_page(request: Request, who: Viewer = Depends(allow("enterprise_user"))):
    """The logged-in enterprise's data: tiers held, yearly figures, clusters it belongs to."""
    return render(request, "enterprise.html", _context(request, who))


@router.post(
    "/enterprise/figures", response_class=HTMLResponse, name="enterprise_figures", dependencies=[Depends(check_csrf)]
)
def enterprise_figures(
    request: Request,
    year: int = Form(..., ge=2000, le=2100),
    revenue: str = Form("", max_length=32),
    output: str = Form("", max_length=32),
    rd_spending: str = Form("", max_length=32),
    employees: str = Form("", max_length=32),
    rd_staff: str = Form("", max_length=32),
    cloud: str = Form("", max_length=3),
    who: Viewer = Depends(allow("enterprise_user")),
):
    """Update the enterprise's own figures for a year (each change audited with old and new values)."""
    values = {
        "revenue": revenue,
        "output": output,
        "rd_spending": rd_spending,
        "employees": employees,
        "rd_staff": rd_staff,
        "cloud": cloud,
    }
    try:
        with session_scope(request.app.state.engine) as s:
            clusters = update_own_figures(s, who, year, values)
    except FiguresError as exc:
        return render(
            request, "enterprise.html", {**_context(request, who), "error": localize(request.state.locale, exc)}, 400
        )
    for cluster_id in clusters:
        refresh_cluster(request.app, cluster_id)
    return RedirectResponse("/enterprise", status_code=303)


def _context(request: Request, who: Viewer) -> dict:
    """What the enterprise page shows."""
    with session_scope(request.app.state.engine) as s:
        firm = s.get(Enterprise, who.uscc)
        designations = list(s.scalars(select(Designation).where(Designation.uscc == who.uscc)))
        years = list(
            s.scalars(select(EnterpriseYear).where(EnterpriseYear.uscc == who.uscc).order_by(EnterpriseYear.year))
        )
        clusters = list(
            s.scalars(
                select(Cluster)
                .join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
                .where(ClusterMember.uscc == who.uscc)
            )
        )
    latest = max((y.year for y in years), default=request.app.state.settings.today().year - 1)
    return {"firm": firm, "designations": designations, "years": years, "clusters": clusters, "latest": latest}
