"""The enterprise user's page: its own registry record, designations and clusters."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from smecluster.db import session_scope
from smecluster.registry.models import Cluster, ClusterMember, Designation, Enterprise, EnterpriseYear
from smecluster.web.security import Viewer, allow
from smecluster.web.templating import render

router = APIRouter()


@router.get("/enterprise", response_class=HTMLResponse, name="enterprise_page")
def enterprise_page(request: Request, who: Viewer = Depends(allow("enterprise_user"))):
    """The logged-in enterprise's data: tiers held, yearly figures, clusters it belongs to."""
    with session_scope(request.app.state.engine) as s:
        firm = s.get(Enterprise, who.uscc)
        designations = list(s.scalars(select(Designation).where(Designation.uscc == who.uscc)))
        years = list(
            s.scalars(
                select(EnterpriseYear).where(EnterpriseYear.uscc == who.uscc).order_by(EnterpriseYear.year)
            )
        )
        clusters = list(
            s.scalars(
                select(Cluster)
                .join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
                .where(ClusterMember.uscc == who.uscc)
            )
        )
    return render(
        request,
        "enterprise.html",
        {"firm": firm, "designations": designations, "years": years, "clusters": clusters},
    )
