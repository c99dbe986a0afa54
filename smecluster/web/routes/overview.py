"""Province, city and county overviews: map, counts by status, targets, the cluster table."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from smecluster.accounts.roles import covers, region_level, region_prefix
from smecluster.web.geojson import counties_geojson
from smecluster.web.security import PUBLIC, Viewer, allow
from smecluster.web.tables import TableSpec, table_page
from smecluster.web.templating import environment, render
from smecluster.web.visibility import audience, may_see_cluster

router = APIRouter()
OVERVIEW_ROLES = ("province_admin", "city_reviewer", "county_applicant")
REGION = Query(None, pattern=r"^\d{6}$", description="GB/T 2260 code inside the account's region")
CLUSTER_TABLE = TableSpec("clusters", ("name", "county_code", "stage", "outcome"), "county_code",
                          search=("name", "county_name", "county_code"))
COUNTY_TABLE = TableSpec("counties", ("code", "clusters", "recognised", "enterprises", "srdi", "little_giants"),
                         "code", search=("name", "code"))


def scoped_region(who: Viewer, region: str | None) -> str:
    """The region to show: the account's own unless a region inside it is asked for."""
    if region is None:
        return who.region_code
    if not covers(who.region_code, region):
        raise HTTPException(status_code=403, detail="region outside your scope")
    return region


def overview_for(request: Request, who: Viewer, code: str) -> tuple[dict, bytes]:
    """The overview data of region `code` holding only the clusters `who` may see."""
    return request.app.state.overview.get(code, audience(who), lambda ref: may_see_cluster(who, ref))


@router.get("/overview", response_class=HTMLResponse, name="overview_page")
def overview_page(request: Request, region: str | None = REGION, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """The overview of the account's region (or a region inside it)."""
    code = scoped_region(who, region)
    cache = request.app.state.overview
    data, _ = overview_for(request, who, code)
    key = (code, audience(who), request.state.locale)
    body = cache.rendered.get(key)
    if body is None:  # the body is the same for every viewer of this region and language
        body = (
            environment(request.state.locale)
            .get_template("overview_body.html")
            .render(o=data, prefix=region_prefix(code))
        )
        cache.rendered[key] = body
    related = None
    if region_level(code) == "county":  # the county page: the industries it could grow into
        from smecluster.web.routes.chains import county_related

        related = county_related(request, code)
        related = related if related["options"] else None
    query = request.query_params
    return render(request, "overview.html", {
        "body": body, "related": related,
        "clusters": table_page(CLUSTER_TABLE, data["clusters"], query),
        "counties": table_page(COUNTY_TABLE, data["counties"], query),
    })


@router.get("/geo/counties.geojson", name="counties_geojson")
def geo_counties(
    request: Request,
    prefix: str = Query("32", pattern=r"^\d{2}(\d{2}(\d{2})?)?$"),
    who: Viewer = Depends(allow(PUBLIC)),
):
    """Simplified county boundaries whose code starts with `prefix` (public reference data)."""
    return Response(
        counties_geojson(prefix),
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )
