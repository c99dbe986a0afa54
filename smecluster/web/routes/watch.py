"""Re-review watch and cluster dossiers on the web: the watch page and its JSON twin, a cluster's trends
(JSON, drawn on the cluster page) and the dossier downloads (Word, Excel, PDF).

Bureaus see the clusters inside their region (province, city, county), as on the overview.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from smecluster.accounts.roles import covers
from smecluster.web.routes.overview import OVERVIEW_ROLES, REGION, scoped_region
from smecluster.web.security import Viewer, allow
from smecluster.web.tables import TableSpec, table_page
from smecluster.web.templating import render
from smecluster.web.visibility import cluster_refs, may_see_cluster
from smecluster.web.watch_view import for_region, trend_option

router = APIRouter()
WATCH_TABLE = TableSpec("watch", ("name", "county_code", "stage", "re_review_year", "at_risk"), "re_review_year",
                        search=("name", "county_name", "county_code"))
YEAR = Query(None, ge=2000, le=2100, description="Calendar year of the watch (default: this year)")
MEDIA = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _watch(request: Request, who: Viewer, year: int | None, region: str | None):
    code = scoped_region(who, region)
    with request.app.state.heavy.slot():
        return for_region(request.app.state.watch.get(year), code), code


@router.get("/watch", response_class=HTMLResponse, name="watch_page")
def watch_page(request: Request, year: int | None = YEAR, region: str | None = REGION,
               who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """Recognised clusters of the viewer's region: due for re-review, at risk (with trend charts), reports."""
    w, code = _watch(request, who, year, region)
    charts = [{"id": c["id"], "option": trend_option(c, c["name"])} for c in w.at_risk]
    table = table_page(WATCH_TABLE, w.clusters, request.query_params)
    return render(request, "watch.html", {"w": w, "code": code, "watch": table, "chart_data": {"charts": charts}})


@router.get("/api/watch", name="api_watch")
def api_watch(request: Request, year: int | None = YEAR, region: str | None = REGION,
              who: Viewer = Depends(allow(*OVERVIEW_ROLES))) -> dict:
    """The watch as `smecluster watch --format json` gives it, cut to the viewer's region."""
    w, _ = _watch(request, who, year, region)
    return w.to_dict()


def _cluster_in_scope(request: Request, who: Viewer, cluster_id: int) -> None:
    """404 unless the viewer may see the cluster and it lies inside the viewer's region."""
    ref = cluster_refs(request.app.state.engine).get(cluster_id)
    if ref is None or not may_see_cluster(who, ref) or not covers(who.region_code, ref.county_code):
        raise HTTPException(status_code=404, detail="no such cluster")


@router.get("/api/clusters/{cluster_id}/trends", name="api_cluster_trends")
def api_cluster_trends(request: Request, cluster_id: int, who: Viewer = Depends(allow(*OVERVIEW_ROLES))) -> dict:
    """A cluster's criteria year by year, trend, projection (recognised clusters) and risk, with the chart."""
    from smecluster.services.watch import cluster_trend, plain

    _cluster_in_scope(request, who, cluster_id)
    with request.app.state.heavy.slot():
        entry = cluster_trend(request.app.state.engine, cluster_id, today=request.app.state.settings.today())
    return {"cluster": plain(entry), "chart": trend_option(entry, entry["name"])}


@router.get("/clusters/{cluster_id}/dossier.{fmt}", name="cluster_dossier")
def cluster_dossier(request: Request, cluster_id: int, fmt: str, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """The cluster's dossier as a Word, Excel or PDF file."""
    from smecluster.reports import dossier_docx, dossier_pdf, dossier_xlsx
    from smecluster.services.dossiers import gather

    if fmt not in MEDIA:
        raise HTTPException(status_code=404, detail="unknown format")
    _cluster_in_scope(request, who, cluster_id)
    writer = {"docx": dossier_docx.dossier_docx, "xlsx": dossier_xlsx.dossier_xlsx, "pdf": dossier_pdf.dossier_pdf}
    with request.app.state.heavy.slot():
        d = gather(request.app.state.engine, [cluster_id], today=request.app.state.settings.today())[0]
        data = writer[fmt](d)
    name = f"dossier-{cluster_id}.{fmt}"
    return Response(data, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})
