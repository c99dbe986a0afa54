"""Free diagnosis (免费诊断) of one enterprise: its tier, the next tier and what it lacks."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from smecluster.accounts.roles import covers
from smecluster.registry.models import Enterprise, EnterpriseYear
from smecluster.services.diagnosis import UnknownEnterprise, diagnose
from smecluster.web.routes.overview import OVERVIEW_ROLES
from smecluster.web.security import Viewer, allow
from smecluster.web.templating import render

router = APIRouter()
DIAGNOSIS_ROLES = ("enterprise_user", *OVERVIEW_ROLES)
USCC = Path(..., pattern=r"^[0-9A-Za-z]{18}$", description="unified social credit code")


def may_diagnose(who: Viewer, uscc: str, county_code: str | None) -> bool:
    """The enterprise itself, or a province, city or county account whose region holds the firm."""
    if who.role == "enterprise_user":
        return (who.uscc or "").upper() == uscc
    return who.role in OVERVIEW_ROLES and covers(who.region_code, county_code)


def _diagnosis(request: Request, uscc: str, who: Viewer, year: int | None, kind: str):
    """(the firm's name, its data years, the diagnosis or None); 404 outside the viewer's scope."""
    # the firm and its data years in one statement (one round trip: the page is asked for often)
    query = (select(Enterprise.county_code, Enterprise.name, EnterpriseYear.year)
             .outerjoin(EnterpriseYear, EnterpriseYear.uscc == Enterprise.uscc)
             .where(Enterprise.uscc == uscc).order_by(EnterpriseYear.year.desc()))
    with request.app.state.engine.connect() as c:
        rows = c.execute(query).all()
    firm = rows[0] if rows else None
    county, name = (firm.county_code, firm.name) if firm else (None, None)
    years = [r.year for r in rows if r.year is not None]
    if firm is None:
        raise HTTPException(status_code=404, detail="no enterprise with this credit code")
    if not may_diagnose(who, uscc, county):
        # the same answer as an unknown code: a firm outside the scope is not confirmed to exist
        raise HTTPException(status_code=404, detail="no enterprise with this credit code")
    try:
        with request.app.state.heavy.slot():
            d = diagnose(request.app.state.engine, uscc, year=year, evaluation=kind)
    except (UnknownEnterprise, ValueError):  # no yearly figures yet: nothing to judge
        d = None
    return name, years, d


YEAR = Query(None, ge=1990, le=2100, description="data year (default: the newest)")
KIND = Query("new", description="kind of evaluation: new application or re-review")


@router.get("/api/enterprises/{uscc}/diagnosis", name="api_diagnosis", tags=["api"])
def api_diagnosis(request: Request, uscc: str = USCC, who: Viewer = Depends(allow(*DIAGNOSIS_ROLES)),
                  year: int | None = YEAR, kind: Literal["new", "review"] = KIND):
    """The diagnosis page as JSON: each tier's verdict, the next tier and what the firm lacks
    (`diagnosis` is null when the firm has no yearly figures yet)."""
    uscc = uscc.upper()
    name, years, d = _diagnosis(request, uscc, who, year, kind)
    return jsonable_encoder({"uscc": uscc, "name": name, "years": years, "kind": kind, "diagnosis": d})


@router.get("/enterprises/{uscc}/diagnosis", response_class=HTMLResponse, name="diagnosis_page")
def diagnosis_page(request: Request, uscc: str = USCC, who: Viewer = Depends(allow(*DIAGNOSIS_ROLES)),
                   year: int | None = YEAR, kind: Literal["new", "review"] = KIND):
    """The diagnosis of one firm: tiers met, the next tier, the criteria it lacks and how to reach them.

    `year` and `kind` pick the data year and the kind of evaluation; with the date they pick each
    tier's pack (the newest year falls under the 2026 packs, earlier years under the 2022 ones)."""
    uscc = uscc.upper()
    name, years, d = _diagnosis(request, uscc, who, year, kind)
    return render(request, "enterprises/diagnosis.html",
                  {"d": d, "uscc": uscc, "name": name, "years": years, "kind": kind})
