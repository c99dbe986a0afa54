"""Public pages: the cluster list with outcomes, a cluster's criteria table, the language switch."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from smecluster.accounts.roles import covers
from smecluster.db import session_scope
from smecluster.web.cluster_facts import cluster_facts, industry_names
from smecluster.web.i18n import LOCALE_COOKIE, LOCALES
from smecluster.web.routes.diagnosis import may_diagnose
from smecluster.web.routes.overview import OVERVIEW_ROLES
from smecluster.web.security import PUBLIC, Viewer, allow, cookie_kwargs
from smecluster.web.tables import TableSpec, table_page
from smecluster.web.templating import render
from smecluster.web.visibility import visible_verdicts

router = APIRouter()
CLUSTER_LIST = TableSpec("list", ("name", "county_code", "year", "outcome"), "county_code",
                         search=("name", "county_name", "county_code", "industries"))


@router.get("/", response_class=HTMLResponse, name="cluster_list")
def cluster_list(request: Request, outcome: str | None = None, who: Viewer = Depends(allow(PUBLIC))):
    """Every visible cluster with its outcome under the policy in force."""
    verdicts = visible_verdicts(request.app, who)
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.outcome] = counts.get(v.outcome, 0) + 1
    if outcome:
        verdicts = [v for v in verdicts if v.outcome == outcome]
    rows = [{"v": v, "name": v.cluster["name"], "county_code": v.cluster["county_code"],
             "county_name": v.cluster.get("county_name"), "year": v.year, "outcome": v.outcome,
             "industries": " ".join(v.cluster.get("leading_industries") or [])} for v in verdicts]
    table = table_page(CLUSTER_LIST, rows, request.query_params)
    codes = {c for r in table.rows for c in r["v"].cluster.get("leading_industries") or []}
    with session_scope(request.app.state.engine) as s:
        industries = industry_names(s, codes)
    return render(request, "clusters/list.html", {"verdicts": [r["v"] for r in table.rows], "table": table,
                                                  "counts": counts, "outcome": outcome, "industries": industries})


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse, name="cluster_page")
def cluster_page(request: Request, cluster_id: int, who: Viewer = Depends(allow(PUBLIC))):
    """One cluster: outcome, the criteria table with values, thresholds, clauses and gaps."""
    found = [v for v in visible_verdicts(request.app, who) if int(v.cluster["id"]) == cluster_id]
    if not found:
        raise HTTPException(status_code=404, detail="no such cluster")
    with session_scope(request.app.state.engine) as s:
        facts = cluster_facts(s, cluster_id, who, request.query_params)
    diagnosable = {m.uscc for m in facts["members"] if not who.anonymous and may_diagnose(who, m.uscc, m.county_code)}
    # bureaus whose region holds the cluster get its trend chart and dossier downloads (routes/watch.py)
    in_scope = who.role in OVERVIEW_ROLES and covers(who.region_code, found[0].cluster["county_code"])
    radar = None
    if in_scope:  # a recognised cluster's five-dimension priority scores (docs/priority.md)
        from smecluster.web.priority_view import cluster_radar

        radar = cluster_radar(request.app, cluster_id, request.state.locale)
    # the county bureau may apply for its registry cluster when no application of it is going on
    from smecluster.workflow.applications import CLOSED_STAGES

    may_apply = who.role == "county_applicant" and covers(who.region_code, found[0].cluster["county_code"]) \
        and all(item["a"].stage in CLOSED_STAGES for item in facts["applications"])
    return render(request, "clusters/detail.html", {"v": found[0], **facts, "diagnosable": diagnosable,
                                                    "in_scope": in_scope, "radar": radar, "may_apply": may_apply})


@router.get("/api/clusters/{cluster_id}/map", name="api_cluster_map", tags=["api"])
def api_cluster_map(request: Request, cluster_id: int, who: Viewer = Depends(allow(PUBLIC))) -> dict:
    """The cluster page's map as GeoJSON: the footprint of a cluster the viewer may see; its located
    members (points, flagged outside the county) only for the bureaus whose region holds it."""
    from smecluster.services.geography import cluster_map

    found = [v for v in visible_verdicts(request.app, who) if int(v.cluster["id"]) == cluster_id]
    if not found:
        raise HTTPException(status_code=404, detail="no such cluster")
    in_scope = who.role in OVERVIEW_ROLES and covers(who.region_code, found[0].cluster["county_code"])
    with request.app.state.heavy.slot():
        data = cluster_map(request.app.state.engine, cluster_id, members=in_scope)
    if data is None:
        raise HTTPException(status_code=404, detail="no such cluster")
    return data


@router.get("/lang/{code}", name="switch_language")
def switch_language(request: Request, code: str, next: str = "/", who: Viewer = Depends(allow(PUBLIC))):
    """Switch the interface language (zh or en) and go back."""
    if code not in LOCALES:
        raise HTTPException(status_code=404, detail="unknown language")
    target = next if next.startswith("/") and not urlparse(next).netloc and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 86400, **cookie_kwargs(request))
    return response
