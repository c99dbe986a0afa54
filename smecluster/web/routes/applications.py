"""Application pages: list in scope, create, view, act on the workflow, attach evidence, experts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy import select

from smecluster.accounts.models import Account
from smecluster.db import session_scope
from smecluster.registry.models import Cluster, ClusterMember, Region
from smecluster.web.i18n import localize
from smecluster.web.security import Viewer, allow, check_csrf
from smecluster.web.templating import render
from smecluster.web.verdicts import refresh_cluster
from smecluster.workflow.applications import (
    Conflict,
    NotPermitted,
    NotVisible,
    WorkflowError,
    act,
    create_application,
    get_visible,
    open_application,
    open_application_of,
    visible_applications,
)
from smecluster.workflow.definition import load_workflow
from smecluster.workflow.evidence import download_name, evidence_path, store_evidence
from smecluster.workflow.member_file import MAX_BYTES as MAX_MEMBER_BYTES
from smecluster.workflow.member_file import member_codes
from smecluster.workflow.models import Evidence, Transition
from smecluster.workflow.reviews import assign_expert, reviews_of, score_application

router = APIRouter()
VIEWERS = ("county_applicant", "city_reviewer", "province_admin", "expert")


@router.get("/applications", response_class=HTMLResponse, name="application_list")
def application_list(request: Request, who: Viewer = Depends(allow(*VIEWERS))):
    """The applications in the account's scope (experts: those assigned to them)."""
    with session_scope(request.app.state.engine) as s:
        apps = visible_applications(s, who)
        names = dict(
            s.execute(select(Cluster.id, Cluster.name).where(Cluster.id.in_([a.cluster_id for a in apps]))).all()
        )
    return render(request, "applications/list.html", {"apps": apps, "names": names, "wf": load_workflow()})


def registry_clusters(request: Request, who: Viewer) -> list:
    """The county's clusters already in the registry that may be applied for (no application going on)."""
    with session_scope(request.app.state.engine) as s:
        rows = s.execute(select(Cluster.id, Cluster.name, Cluster.status).where(Cluster.county_code == who.region_code)
                         .order_by(Cluster.name)).all()
        return [r for r in rows if open_application_of(s, r.id) is None]


@router.get("/applications/new", response_class=HTMLResponse, name="application_new")
def application_new(request: Request, who: Viewer = Depends(allow("county_applicant"))):
    """The form of a new cluster application, and the county's registry clusters to apply for again."""
    return render(request, "applications/new.html", {"form": {}, "year": request.app.state.settings.today().year,
                                                     "registry": registry_clusters(request, who)})


@router.post("/clusters/{cluster_id}/apply", name="cluster_apply", dependencies=[Depends(check_csrf)])
def cluster_apply(request: Request, cluster_id: int, who: Viewer = Depends(allow("county_applicant"))):
    """An application for a cluster already in the registry (its county bureau only): a draft, or for one the
    registry holds as recognised an application in that stage (`open_application`). 400 while another is
    going on."""
    year = request.app.state.settings.today().year
    try:
        with session_scope(request.app.state.engine) as s:
            app_id = open_application(s, who, cluster_id, year).id
    except NotVisible:
        raise HTTPException(status_code=404, detail="no such cluster") from None
    except NotPermitted as exc:
        raise HTTPException(status_code=403, detail=localize(request.state.locale, exc)) from None
    except WorkflowError as exc:
        if "stage" in exc.params:  # the stage by its name in the viewer's language, not its code
            from smecluster.web.templating import stage_name

            exc.params["stage"] = stage_name(exc.params["stage"], request.state.locale)
        raise HTTPException(status_code=400, detail=localize(request.state.locale, exc)) from None
    refresh_cluster(request.app, cluster_id)
    return RedirectResponse(f"/applications/{app_id}", status_code=303)


@router.post(
    "/applications",
    response_class=HTMLResponse,
    name="application_create",
    dependencies=[Depends(check_csrf)],
)
async def application_create(
    request: Request,
    name: str = Form(..., max_length=200),
    leading_industries: str = Form(..., max_length=500),
    members: str = Form("", max_length=200_000),
    members_file: UploadFile | None = File(None),
    who: Viewer = Depends(allow("county_applicant")),
):
    """Create a draft application with its cluster and members (typed, or from an .xlsx/.csv file)."""
    year = request.app.state.settings.today().year
    try:
        uploaded = await members_file.read(MAX_MEMBER_BYTES + 1) if members_file and members_file.filename else b""
        # parsing a workbook is blocking work: in a worker thread, so other requests go on meanwhile
        codes = members.replace(",", "\n").split() + (await run_in_threadpool(member_codes, uploaded))
        with session_scope(request.app.state.engine) as s:
            application = create_application(
                s,
                who,
                name=name,
                leading_industries=leading_industries.replace("，", ",").split(","),
                members=codes,
                year=year,
            )
            app_id, cluster_id = application.id, application.cluster_id
    except WorkflowError as exc:
        form = {"name": name, "leading_industries": leading_industries, "members": members}
        return render(
            request,
            "applications/new.html",
            {"error": localize(request.state.locale, exc), "form": form, "year": year,
             "registry": registry_clusters(request, who)},
            400,
        )
    refresh_cluster(request.app, cluster_id)
    return RedirectResponse(f"/applications/{app_id}", status_code=303)


def _detail_context(request: Request, who: Viewer, application_id: int) -> dict:
    with session_scope(request.app.state.engine) as s:
        try:
            application = get_visible(s, who, application_id)
        except NotVisible:
            raise HTTPException(status_code=404, detail="no such application") from None
        cluster = s.get(Cluster, application.cluster_id)
        county = s.get(Region, application.county_code)
        members = s.scalar(select(ClusterMember.uscc).where(ClusterMember.cluster_id == cluster.id).limit(1))
        history = s.execute(
            select(Transition, Account.display_name)
            .outerjoin(Account, Account.id == Transition.account_id)
            .where(Transition.application_id == application_id)
            .order_by(Transition.id)
        ).all()
        files = list(s.scalars(select(Evidence).where(Evidence.application_id == application_id).order_by(Evidence.id)))
        reviews = reviews_of(s, application_id)
        experts = list(s.scalars(select(Account).where(Account.role == "expert", Account.active.is_(True))))
        wf = load_workflow(application.workflow)
        return {
            "a": application,
            "cluster": cluster,
            "county": county,
            "has_members": members is not None,
            "history": history,
            "files": files,
            "reviews": reviews,
            "experts": experts,
            "wf": wf,
            "actions": wf.available(application.stage, who.role),
            "verdict": request.app.state.verdicts.get(cluster.id),
            "my_review": next((r for r, _ in reviews if r.expert_id == who.id), None),
            "today": request.app.state.settings.today(),
            **_quality(request, who, application_id, application.verdict),
        }


def _quality(request: Request, who: Viewer, application_id: int, attached: dict | None) -> dict:
    """The findings touching the application's members, and its verdicts with the criteria resting on a
    flagged figure marked (the live one and, by criterion id, the one attached at review)."""
    from smecluster.web.routes.quality import SHOWN, application_quality

    data = application_quality(request, who, application_id)
    marks = {d["criterion"]: d["checks"] for d in data["doubtful"]}
    return {"quality": data["findings"].head(SHOWN).to_dicts(), "quality_total": data["findings"].height,
            "verdict": data["verdict"], "attached_verdict": _marked(attached, marks)}


def _marked(verdict: dict | None, marks: dict[str, list[str]]) -> dict | None:
    if not verdict:
        return verdict
    import copy

    marked = copy.deepcopy(verdict)
    stack = list(marked.get("criteria") or [])
    while stack:  # one verdict's criteria tree (a dozen nodes)
        c = stack.pop()
        c["doubtful"] = marks.get(c.get("id"), [])
        stack.extend(c.get("children") or [])
    return marked


def _kept_form(request: Request, who: Viewer, application_id: int, action: str, comment: str) -> dict:
    """The page again after a refused action, its form filled with the comment as typed: shown even
    when the action is no longer possible in the current stage (someone else moved it), so no text is lost."""
    ctx = _detail_context(request, who, application_id)
    ctx.update(kept_comment=comment, kept_action=action)
    kept = ctx["wf"].action(action)
    if kept is not None and who.role in kept.roles and all(a.id != action for a in ctx["actions"]):
        ctx["actions"] = [*ctx["actions"], kept]
        ctx["stale_action"] = action
    return ctx


@router.get("/applications/{application_id}", response_class=HTMLResponse, name="application_page")
def application_page(request: Request, application_id: int, who: Viewer = Depends(allow(*VIEWERS))):
    """One application: stage, actions, system verdict, expert scores, evidence and history."""
    return render(request, "applications/detail.html", _detail_context(request, who, application_id))


@router.post(
    "/applications/{application_id}/actions/{action}",
    response_class=HTMLResponse,
    name="application_act",
    dependencies=[Depends(check_csrf)],
)
async def application_act(
    request: Request,
    application_id: int,
    action: str,
    version: int = Form(...),
    comment: str = Form("", max_length=5000),
    attachment: UploadFile | None = File(None),
    who: Viewer = Depends(allow(*VIEWERS)),
):
    """Move the application (or record an action in place); a stale version is answered 409."""
    settings = request.app.state.settings
    data = await attachment.read(settings.max_upload_bytes + 1) if attachment and attachment.filename else b""
    store = request.app.state.verdicts

    def verdict_for(cluster_id: int):
        v = store.get(cluster_id)
        return v.to_dict() if v is not None else None

    try:
        with session_scope(request.app.state.engine) as s:
            cluster_id = get_visible(s, who, application_id).cluster_id
            transition = act(
                s,
                who,
                application_id,
                action,
                version,
                comment,
                today=settings.today(),
                verdict_for=verdict_for,
            )
            if data:
                store_evidence(
                    s,
                    who,
                    application_id,
                    attachment.filename,
                    data,
                    directory=settings.evidence_dir,
                    max_bytes=settings.max_upload_bytes,
                    transition_id=transition.id,
                )
    except NotVisible:
        raise HTTPException(status_code=404, detail="no such application") from None
    except NotPermitted as exc:
        raise HTTPException(status_code=403, detail=localize(request.state.locale, exc)) from None
    except Conflict as exc:
        ctx = _kept_form(request, who, application_id, action, comment)
        ctx.update(conflict=str(exc), conflict_obj=exc)
        return render(request, "applications/detail.html", ctx, 409)
    except WorkflowError as exc:
        ctx = _kept_form(request, who, application_id, action, comment)
        ctx.update(error=localize(request.state.locale, exc))
        return render(request, "applications/detail.html", ctx, 400)
    refresh_cluster(request.app, cluster_id)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)


@router.post(
    "/applications/{application_id}/evidence",
    response_class=HTMLResponse,
    name="evidence_upload",
    dependencies=[Depends(check_csrf)],
)
async def evidence_upload(
    request: Request,
    application_id: int,
    file: UploadFile = File(...),
    who: Viewer = Depends(allow("county_applicant", "city_reviewer", "province_admin")),
):
    """Attach an evidence file (type checked by content, size capped)."""
    settings = request.app.state.settings
    data = await file.read(settings.max_upload_bytes + 1)
    try:
        with session_scope(request.app.state.engine) as s:
            store_evidence(
                s,
                who,
                application_id,
                file.filename,
                data,
                directory=settings.evidence_dir,
                max_bytes=settings.max_upload_bytes,
            )
    except NotVisible:
        raise HTTPException(status_code=404, detail="no such application") from None
    except NotPermitted as exc:
        raise HTTPException(status_code=403, detail=localize(request.state.locale, exc)) from None
    except WorkflowError as exc:
        ctx = _detail_context(request, who, application_id)
        ctx.update(error=localize(request.state.locale, exc))
        return render(request, "applications/detail.html", ctx, 400)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)


@router.get("/evidence/{evidence_id}", name="evidence_download")
def evidence_download(request: Request, evidence_id: int, who: Viewer = Depends(allow(*VIEWERS))):
    """Download an evidence file of an application the account may see."""
    with session_scope(request.app.state.engine) as s:
        evidence = s.get(Evidence, evidence_id)
        try:
            if evidence is None:
                raise NotVisible("no such file")
            get_visible(s, who, evidence.application_id)
        except NotVisible:
            raise HTTPException(status_code=404, detail="no such file") from None
        path = evidence_path(request.app.state.settings.evidence_dir, evidence)
        name, media_type = download_name(evidence), evidence.media_type
    if not path.exists():
        raise HTTPException(status_code=404, detail="file missing from storage")
    # always a download (never shown inline), under the extension of the detected type
    return FileResponse(
        path, media_type=media_type, filename=name, headers={"X-Content-Type-Options": "nosniff"}
    )


@router.post("/applications/{application_id}/experts", name="expert_assign", dependencies=[Depends(check_csrf)])
def expert_assign(
    request: Request,
    application_id: int,
    expert: str = Form(..., max_length=64),
    who: Viewer = Depends(allow("province_admin")),
):
    """Assign an expert to an application under review."""
    return _review_step(request, who, application_id, lambda s: assign_expert(s, who, application_id, expert))


@router.post("/applications/{application_id}/score", name="expert_score", dependencies=[Depends(check_csrf)])
def expert_score(
    request: Request,
    application_id: int,
    score: float = Form(..., ge=0, le=100),
    comment: str = Form("", max_length=5000),
    who: Viewer = Depends(allow("expert")),
):
    """An assigned expert's score."""
    return _review_step(
        request, who, application_id, lambda s: score_application(s, who, application_id, score, comment)
    )


def _review_step(request: Request, who: Viewer, application_id: int, step):
    try:
        with session_scope(request.app.state.engine) as s:
            step(s)
    except NotVisible:
        raise HTTPException(status_code=404, detail="no such application") from None
    except NotPermitted as exc:
        raise HTTPException(status_code=403, detail=localize(request.state.locale, exc)) from None
    except WorkflowError as exc:
        ctx = _detail_context(request, who, application_id)
        ctx.update(error=localize(request.state.locale, exc))
        return render(request, "applications/detail.html", ctx, 400)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)
