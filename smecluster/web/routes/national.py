"""The national view: the ministry (工业和信息化部) compares every province; a province sees only its own.

/national (and /api/national): per province, firms, recognised clusters, SRDI SMEs and little giants,
per million firms, on a map of China, and its confirmed recommendation to the national list. The
ministry sees every province; a provincial department only its own row.
/national/provinces/{province} (and /api/...): a province's confirmed recommendation, every cluster
evaluated against the national pack (miit-cluster-2022); another province's is refused (403).
/geo/provinces.geojson: the province outlines (public reference data, as the county boundaries).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from smecluster.services.national import MINISTRY_ROLE, may_see_province
from smecluster.web.geojson import provinces_geojson
from smecluster.web.security import PUBLIC, Viewer, allow
from smecluster.web.templating import render

router = APIRouter()
NATIONAL_ROLES = (MINISTRY_ROLE, "province_admin")
YEAR = Query(None, ge=2000, le=2100, description="Data year of the counts (default: the newest)")
PROVINCE = Path(..., pattern=r"^\d{2}$", description="Two-digit GB/T 2260 province code")


def _comparison(request: Request, year: int | None) -> dict:
    with request.app.state.heavy.slot():
        return request.app.state.national.comparisons.get(year)


def comparison_for(request: Request, who: Viewer, year: int | None) -> dict:
    """The comparison with only the provinces this viewer may see (every one for the ministry)."""
    data = dict(_comparison(request, year))
    data["provinces"] = [p for p in data["provinces"] if may_see_province(who, p["code"])]
    data["totals"] = {k: sum(p[k] for p in data["provinces"]) for k in data["totals"]}
    data["scope"] = "nation" if who.role == MINISTRY_ROLE else "province"
    return data


def _recommendation(request: Request, who: Viewer, province: str) -> dict:
    if not may_see_province(who, province):
        raise HTTPException(status_code=403, detail="province outside your scope")
    with request.app.state.heavy.slot():
        try:
            return request.app.state.national.recommendations.get(province)
        except LookupError:
            raise HTTPException(status_code=404, detail=f"no province {province}") from None


@router.get("/national", response_class=HTMLResponse, name="national_page")
def national_page(request: Request, year: int | None = YEAR, who: Viewer = Depends(allow(*NATIONAL_ROLES))):
    """Provinces compared on a map of China, with their recommendations to the national list."""
    data = comparison_for(request, who, year)
    return render(request, "national.html", {"n": data})


@router.get("/api/national", name="api_national")
def api_national(request: Request, year: int | None = YEAR, who: Viewer = Depends(allow(*NATIONAL_ROLES))) -> dict:
    """The province comparison as JSON, cut to the provinces the viewer may see."""
    return comparison_for(request, who, year)


@router.get("/national/provinces/{province}", response_class=HTMLResponse, name="national_province_page")
def national_province_page(request: Request, province: str = PROVINCE,
                           who: Viewer = Depends(allow(*NATIONAL_ROLES))):
    """One province's confirmed recommendation evaluated against the national pack."""
    return render(request, "national_province.html", {"r": _recommendation(request, who, province)})


@router.get("/api/national/provinces/{province}", name="api_national_province")
def api_national_province(request: Request, province: str = PROVINCE,
                          who: Viewer = Depends(allow(*NATIONAL_ROLES))) -> dict:
    """One province's recommendation and its clusters' national verdicts as JSON (403 outside scope)."""
    return _recommendation(request, who, province)


@router.get("/geo/provinces.geojson", name="provinces_geojson")
def geo_provinces(request: Request, who: Viewer = Depends(allow(PUBLIC))):
    """Simplified outlines of China's province-level divisions (public reference data)."""
    return Response(provinces_geojson(), media_type="application/geo+json",
                    headers={"Cache-Control": "public, max-age=86400"})
