"""Data quality on the web: applications ranked by their findings, and each application's findings.

The same role and region rules as the application pages: an account sees the applications in its scope
(a county its own, a city its counties', the province all) and the county summaries inside its region.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from smecluster.accounts.roles import covers
from smecluster.db import session_scope
from smecluster.registry.models import Cluster
from smecluster.web.security import Viewer, allow
from smecluster.web.templating import render
from smecluster.workflow.applications import NotVisible, get_visible, visible_applications

router = APIRouter()
REVIEWERS = ("county_applicant", "city_reviewer", "province_admin")
APP_ROLES = ("county_applicant", "city_reviewer", "province_admin", "expert")
SHOWN = 200  # findings listed on an application's page (the JSON twin gives them all)


def ranking(request: Request, who: Viewer) -> dict[str, Any]:
    """The applications in the viewer's scope ranked by their findings, and the county summaries."""
    from smecluster.services.quality import application_ranking

    report = request.app.state.quality.report()
    with session_scope(request.app.state.engine) as s:
        apps = visible_applications(s, who)
        names = dict(s.execute(select(Cluster.id, Cluster.name)
                               .where(Cluster.id.in_([a.cluster_id for a in apps]))).all())
        rows = [{"id": a.id, "cluster_id": a.cluster_id, "name": names.get(a.cluster_id, ""),
                 "county_code": a.county_code, "year": a.year, "stage": a.stage} for a in apps]
    ranked = application_ranking(request.app.state.engine, report.findings, rows)
    summary = [r for r in report.summary.to_dicts() if covers(who.region_code, r["county_code"])]
    return {"year": report.year, "applications": ranked, "counties": summary}


def application_quality(request: Request, who: Viewer, application_id: int) -> dict[str, Any]:
    """An application's findings (about its members, platforms and declaration) and its marked verdict."""
    from smecluster.services.quality import by_cluster
    from smecluster.web.quality import with_doubts

    with session_scope(request.app.state.engine) as s:
        try:
            application = get_visible(s, who, application_id)
        except NotVisible:
            raise HTTPException(status_code=404, detail="no such application") from None
        cluster_id = application.cluster_id
    report = request.app.state.quality.report()
    findings = by_cluster(request.app.state.engine, report.findings, [cluster_id]).drop("of_cluster")
    verdict = with_doubts(request.app.state.engine, request.app.state.verdicts.get(cluster_id), findings)
    doubtful = [{"criterion": c.id, "checks": c.doubtful} for c in _walk(verdict.criteria if verdict else [])
                if getattr(c, "doubtful", None)]
    return {"application_id": application_id, "cluster_id": cluster_id, "findings": findings,
            "verdict": verdict, "doubtful": doubtful}


def _walk(criteria):
    for c in criteria:
        yield c
        yield from _walk(c.children)


def findings_json(findings: pl.DataFrame) -> list[dict]:
    """Findings as plain rows for JSON."""
    return findings.to_dicts()


@router.get("/quality", response_class=HTMLResponse, name="quality_page")
def quality_page(request: Request, who: Viewer = Depends(allow(*REVIEWERS))):
    """Applications in scope by number and severity of findings, and the summary per county."""
    with request.app.state.heavy.slot():
        data = ranking(request, who)
    return render(request, "quality.html", data)


@router.get("/api/quality", name="api_quality", tags=["api"])
def api_quality(request: Request, who: Viewer = Depends(allow(*REVIEWERS))) -> dict:
    """The quality page's data: applications ranked by their findings, county summaries in scope."""
    with request.app.state.heavy.slot():
        return ranking(request, who)


@router.get("/api/applications/{application_id}/quality", name="api_application_quality", tags=["api"])
def api_application_quality(request: Request, application_id: int, who: Viewer = Depends(allow(*APP_ROLES))) -> dict:
    """The findings touching an application's members, and which criteria depend on a doubtful figure."""
    with request.app.state.heavy.slot():
        data = application_quality(request, who, application_id)
    return {"application_id": data["application_id"], "cluster_id": data["cluster_id"],
            "findings": findings_json(data["findings"]), "doubtful": data["doubtful"]}
