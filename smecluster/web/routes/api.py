"""The JSON API: the same reads and workflow actions as the pages (OpenAPI document at /openapi.json).

Writes need the session cookie and the CSRF token in the X-CSRF-Token header.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from smecluster.db import session_scope
from smecluster.web.routes.overview import OVERVIEW_ROLES, REGION, overview_for, scoped_region
from smecluster.web.security import PUBLIC, Viewer, allow, check_csrf
from smecluster.web.text_guard import Text
from smecluster.web.verdicts import refresh_cluster
from smecluster.web.visibility import visible_verdicts
from smecluster.workflow.applications import (
    Conflict,
    NotPermitted,
    NotVisible,
    WorkflowError,
    act,
    get_visible,
    visible_applications,
)

router = APIRouter(prefix="/api", tags=["api"])
APP_ROLES = ("county_applicant", "city_reviewer", "province_admin", "expert")


class ActionRequest(BaseModel):
    """A workflow action: the version the client saw, and an optional comment."""

    version: int = Field(..., ge=1, le=2**31 - 1)
    comment: Text = Field("", max_length=5000)


def _app_dict(a) -> dict[str, Any]:
    return {
        "id": a.id,
        "cluster_id": a.cluster_id,
        "county_code": a.county_code,
        "year": a.year,
        "stage": a.stage,
        "version": a.version,
        "updated_at": a.updated_at.isoformat(),
        "notice_end": a.notice_end.isoformat() if a.notice_end else None,
        "valid_until": a.valid_until.isoformat() if a.valid_until else None,
    }


@router.get("/clusters", name="api_clusters")
def api_clusters(request: Request, outcome: str | None = None, who: Viewer = Depends(allow(PUBLIC))) -> list[dict]:
    """Every visible cluster's verdict (same as the list page)."""
    verdicts = visible_verdicts(request.app, who)
    return [v.to_dict() for v in verdicts if outcome is None or v.outcome == outcome]


@router.get("/clusters/{cluster_id}", name="api_cluster")
def api_cluster(request: Request, cluster_id: int, who: Viewer = Depends(allow(PUBLIC))) -> dict:
    """One cluster's verdict with every criterion."""
    for v in visible_verdicts(request.app, who):
        if int(v.cluster["id"]) == cluster_id:
            return v.to_dict()
    raise HTTPException(status_code=404, detail="no such cluster")


@router.get("/overview", name="api_overview")
def api_overview(request: Request, region: str | None = REGION, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """Overview figures of the account's region (or a region inside it)."""
    _, body = overview_for(request, who, scoped_region(who, region))
    return Response(body, media_type="application/json")


@router.get("/applications", name="api_applications")
def api_applications(request: Request, who: Viewer = Depends(allow(*APP_ROLES))) -> list[dict]:
    """Applications in the account's scope."""
    with session_scope(request.app.state.engine) as s:
        return [_app_dict(a) for a in visible_applications(s, who)]


@router.get("/applications/{application_id}", name="api_application")
def api_application(request: Request, application_id: int, who: Viewer = Depends(allow(*APP_ROLES))) -> dict:
    """One application in scope."""
    with session_scope(request.app.state.engine) as s:
        try:
            return _app_dict(get_visible(s, who, application_id))
        except NotVisible:
            raise HTTPException(status_code=404, detail="no such application") from None


@router.post(
    "/applications/{application_id}/actions/{action}",
    name="api_application_act",
    dependencies=[Depends(check_csrf)],
)
def api_application_act(
    request: Request,
    application_id: int,
    action: str,
    body: ActionRequest,
    who: Viewer = Depends(allow(*APP_ROLES)),
) -> dict:
    """Apply a workflow action; 409 with the current version when someone else acted first."""
    store = request.app.state.verdicts
    try:
        with session_scope(request.app.state.engine) as s:
            act(
                s,
                who,
                application_id,
                action,
                body.version,
                body.comment,
                today=request.app.state.settings.today(),
                verdict_for=lambda cid: v.to_dict() if (v := store.get(cid)) is not None else None,
            )
            found = get_visible(s, who, application_id)
            result, cluster_id = _app_dict(found), found.cluster_id
    except NotVisible:
        raise HTTPException(status_code=404, detail="no such application") from None
    except NotPermitted as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    except Conflict as exc:
        raise HTTPException(
            status_code=409,
            detail={"message": str(exc), "version": exc.current_version, "stage": exc.current_stage},
        ) from None
    except WorkflowError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    refresh_cluster(request.app, cluster_id)
    return result
