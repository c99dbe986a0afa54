"""Chains (强链补链): the chain page (graph coloured by coverage, gap table with partners and their map),
a county's industries to grow into, and their JSON twins.

Access (decision 1403): business roles of the overview; a scope (cluster, county, city, province) must
lie in the viewer's region and a cluster must be one the viewer may see. Partners are listed across
the province (name, county, distance: what a bureau needs to call them), but their figures (output,
size, tier) only when the firm lies in the viewer's region.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from smecluster.accounts.roles import covers, region_level
from smecluster.chains.maps import ChainError
from smecluster.web.page_cache import ComputedCache
from smecluster.web.routes.overview import OVERVIEW_ROLES, scoped_region
from smecluster.web.security import Viewer, allow
from smecluster.web.templating import render
from smecluster.web.visibility import cluster_refs, may_see_cluster

router = APIRouter()
CHAIN = Query(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Chain map id")
LEVEL = Query(None, pattern=r"^(cluster|county|city|province)$", description="cluster | county | city | province")
CODE = Query(None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Cluster id or code, or a GB/T 2260 code")
LINK = Query(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Link id")
COUNTY = PathParam(..., pattern=r"^\d{6}$", description="County code (GB/T 2260)")
STATUS_COLOURS = {"present": "#2e7d32", "weak": "#f9a825", "missing": "#c62828"}
FIGURES = ("output", "tier", "size")


def _cache(request: Request) -> ComputedCache:
    """The registry read for chains, per registry version (recomputed after an import)."""
    state = request.app.state
    if getattr(state, "chain_registry", None) is None:
        from smecluster.services.chains import read_registry

        state.chain_registry = ComputedCache(lambda _version: read_registry(state.engine), ttl=600)
    return state.chain_registry


def _registry(request: Request):
    from smecluster.registry.version import current_version

    with request.app.state.heavy.slot():
        return _cache(request).get(current_version(request.app.state.engine))


def _scope(request: Request, reg, who: Viewer, level: str | None, code: str | None) -> tuple[str, str]:
    """(level, code) the viewer asked for, checked against their region; default: their own region."""
    if level is None or code is None:
        own = who.region_code
        return region_level(own), own
    if level == "cluster":
        from smecluster.services.chains import find_cluster

        try:
            cluster = find_cluster(reg, code)
        except ChainError:
            raise HTTPException(status_code=404, detail="no such cluster") from None
        ref = cluster_refs(request.app.state.engine).get(int(cluster["id"]))
        if ref is None or not may_see_cluster(who, ref) or not covers(who.region_code, cluster["county_code"]):
            raise HTTPException(status_code=404, detail="no such cluster")
        return level, str(cluster["id"])
    code = code.ljust(6, "0") if level == "province" and len(code) == 2 else code
    if not code.isdigit() or len(code) != 6 or region_level(code) != level:
        raise HTTPException(status_code=400, detail=f"{code} is not a {level} code")
    return level, scoped_region(who, code)


def _cut(found: dict, who: Viewer) -> dict:
    """Partners' figures only for firms in the viewer's region."""
    for gap in found["gaps"]:
        for p in gap["partners"]:
            p["in_region"] = covers(who.region_code, p["county_code"])
            if not p["in_region"]:
                for f in FIGURES:
                    p[f] = None
    return found


def chain_view(request: Request, who: Viewer, chain: str | None, level: str | None, code: str | None,
               link: str | None = None) -> dict[str, Any]:
    """Coverage of the chosen scope and chain, and partners when the scope is a cluster."""
    from smecluster.services.chains import chain_coverage, chains_for_cluster, cluster_partners, find_cluster

    reg = _registry(request)
    level, code = _scope(request, reg, who, level, code)
    if chain is None:
        mine = chains_for_cluster(reg, find_cluster(reg, code)) if level == "cluster" else []
        chain = mine[0] if mine else ("power-battery" if "power-battery" in reg.catalogue.maps
                                      else sorted(reg.catalogue.maps)[0])
    if chain not in reg.catalogue.maps:
        raise HTTPException(status_code=404, detail=f"unknown chain {chain!r}")
    question = (level, code, chain, link)
    if question not in reg.answers:  # the registry is per version: its answers are too
        with request.app.state.heavy.slot():
            try:
                (result,) = chain_coverage(reg, level, code, chain)
                found = cluster_partners(reg, code, link, chain) if level == "cluster" else None
            except ChainError as exc:
                raise HTTPException(status_code=400, detail=str(exc)) from None
        if len(reg.answers) > 256:
            reg.answers.clear()
        reg.answers[question] = (result, found)
    result, found = copy.deepcopy(reg.answers[question])
    found = _cut(found, who) if found is not None else None
    chain_map = reg.catalogue.chain(chain)
    return {"coverage": result, "partners": found, "edges": [list(e) for e in chain_map.edges],
            "segments": [s.model_dump() for s in chain_map.segments]}


def _choices(request: Request, reg, who: Viewer) -> dict:
    """The chains and the clusters the viewer may pick."""
    refs = cluster_refs(request.app.state.engine)
    clusters = [c for c in reg.clusters.sort("id").iter_rows(named=True)
                if (ref := refs.get(int(c["id"]))) is not None and may_see_cluster(who, ref)
                and covers(who.region_code, c["county_code"])]
    chains = [{"id": m.id, "title": m.title, "title_en": m.title_en} for m in reg.catalogue.maps.values()]
    return {"clusters": clusters, "chains": chains}


def graph(view: dict, locale: str) -> dict:
    """ECharts graph: links as nodes placed by segment, coloured by status; supplies-to edges as arrows."""
    segments = [s["id"] for s in view["segments"]]
    links = view["coverage"]["links"]
    rows: dict[str, int] = {}
    nodes = []
    for link in links:
        col = segments.index(link["segment"])
        row = rows.get(link["segment"], 0)
        rows[link["segment"]] = row + 1
        nodes.append({"id": link["id"], "name": link["name"] if locale == "zh" else link["name_en"],
                      "x": col * 260, "y": row * 60, "status": link["status"], "firms": link["firms"],
                      "symbolSize": 46 if link["key"] else 34,
                      "itemStyle": {"color": STATUS_COLOURS[link["status"]]}})
    return {"nodes": nodes, "edges": [{"source": a, "target": b} for a, b in view["edges"]]}


@router.get("/chains", response_class=HTMLResponse, name="chains_page")
def chains_page(request: Request, chain: str | None = CHAIN, level: str | None = LEVEL, code: str | None = CODE,
                who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """The chain page: the chain's graph coloured by coverage, the links' table, gaps with partners and a map."""
    view = chain_view(request, who, chain, level, code)
    reg = _registry(request)
    partners = [dict(p, link=g["name"], status=g["status"]) for g in (view["partners"] or {}).get("gaps", [])
                for p in g["partners"]]
    return render(request, "chains.html", {
        **view, **_choices(request, reg, who), "scope": view["coverage"]["scope"],
        "chain_id": view["coverage"]["chain"]["id"],
        "chart_data": {"graph": graph(view, request.state.locale), "partners": partners,
                       "colours": STATUS_COLOURS},
        "prefix": who.region_code[:2],
    })


@router.get("/api/chains", name="api_chains")
def api_chains(request: Request, who: Viewer = Depends(allow(*OVERVIEW_ROLES))) -> list[dict]:
    """Every chain map (shipped and imported): id, title, version, status, links."""
    reg = _registry(request)
    return [{"id": m.id, "title": m.title, "title_en": m.title_en, "version": m.version, "status": m.status,
             "origin": reg.catalogue.origin[m.id], "links": len(m.links)} for m in reg.catalogue.maps.values()]


@router.get("/api/chains/coverage", name="api_chain_coverage")
def api_chain_coverage(request: Request, chain: str | None = CHAIN, level: str | None = LEVEL,
                       code: str | None = CODE, who: Viewer = Depends(allow(*OVERVIEW_ROLES))) -> dict:
    """The chain page's coverage as JSON: per link id, name, segment, status, firms, output, top_share."""
    return chain_view(request, who, chain, level, code)["coverage"]


@router.get("/api/chains/partners", name="api_chain_partners")
def api_chain_partners(request: Request, cluster: str = Query(..., pattern=r"^[A-Za-z0-9_-]{1,64}$"),
                       chain: str | None = CHAIN, link: str | None = LINK,
                       who: Viewer = Depends(allow(*OVERVIEW_ROLES))) -> dict:
    """A cluster's weak and missing links with partner firms, nearest first (figures only in your region)."""
    return chain_view(request, who, chain, "cluster", cluster, link)["partners"]


def _related_cache(request: Request) -> ComputedCache:
    state = request.app.state
    if getattr(state, "related", None) is None:
        from smecluster.analytics.relatedness import relatedness
        from smecluster.services.relatedness import county_industry_matrix

        def compute(_version):
            mat = county_industry_matrix(state.engine)
            return mat, (relatedness(mat.x) if mat.x.size else None)

        state.related = ComputedCache(compute, ttl=600)
    return state.related


def county_related(request: Request, county: str, top: int = 10) -> dict:
    """A county's industries to grow into (empty lists when it has no industrial output in the year)."""
    from smecluster.registry.version import current_version
    from smecluster.services.relatedness import describe, empty_answer

    with request.app.state.heavy.slot():
        mat, rel = _related_cache(request).get(current_version(request.app.state.engine))
    if rel is None or county not in mat.counties:
        return empty_answer(county, None, mat.year, len(mat.counties), len(mat.industries))
    return describe(request.app.state.engine, mat, rel, county, top)


@router.get("/api/counties/{county}/related", name="api_county_related")
def api_county_related(request: Request, county: str = COUNTY, top: int = Query(10, ge=1, le=100),
                       who: Viewer = Depends(allow(*OVERVIEW_ROLES))) -> dict:
    """The county page's industries to grow into: density, LQ, ubiquity; complexity and its rank."""
    scoped_region(who, county)
    return county_related(request, county, top)
