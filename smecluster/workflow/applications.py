"""Application services: create, list in scope, and move through the workflow with optimistic locking.

`who` is any object with `id`, `username`, `role` and `region_code` (the web's Viewer, an Account).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from smecluster.accounts.roles import covers
from smecluster.messages import N_, UserError
from smecluster.registry.models import Cluster, ClusterMember, Enterprise, Industry
from smecluster.safe_text import control_character
from smecluster.workflow import audit
from smecluster.workflow.definition import DEFAULT_WORKFLOW, Workflow, load_workflow
from smecluster.workflow.models import Application, ExpertReview, Transition


class WorkflowError(UserError):
    """An action refused, with the reason for the person who tried it."""


class NotVisible(WorkflowError):
    """The application does not exist or is outside the account's scope (answered as 404)."""


class NotPermitted(WorkflowError):
    """The account's role may not do this (answered as 403)."""


class Conflict(WorkflowError):
    """Someone else changed the application since the form was loaded."""

    def __init__(
        self, message: str, current_version: int, current_stage: str, by: tuple[str, str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.current_version = current_version
        self.current_stage = current_stage
        self.by = by  # (action, user name, time) of the latest change, when known


@dataclass
class AppRef:
    """What visibility needs to know of an application."""

    id: int
    cluster_id: int
    county_code: str
    stage: str
    experts: set[int] = field(default_factory=set)


def may_see_application(who: Any, ref: AppRef) -> bool:
    """Whether an account may see an application: business roles in scope, experts when assigned."""
    role = getattr(who, "role", None)
    if role == "expert":
        return who.id in ref.experts
    if role == "county_applicant":
        return covers(who.region_code, ref.county_code)
    if role in ("city_reviewer", "province_admin"):
        return ref.stage != "draft" and covers(who.region_code, ref.county_code)
    return False


def _refs(session: Session, where=None) -> list[AppRef]:
    """Application refs in the order of their ids (a cluster's newest application comes last)."""
    query = select(Application.id, Application.cluster_id, Application.county_code, Application.stage)
    if where is not None:
        query = query.where(where)
    query = query.order_by(Application.id)
    refs = {r.id: AppRef(r.id, r.cluster_id, r.county_code, r.stage) for r in session.execute(query)}
    if refs:
        for app_id, expert_id in session.execute(
            select(ExpertReview.application_id, ExpertReview.expert_id).where(
                ExpertReview.application_id.in_(list(refs))
            )
        ):
            refs[app_id].experts.add(expert_id)
    return list(refs.values())


def private_applications(
    engine: Engine, workflow: Workflow | None = None, every_stage: bool = False
) -> dict[int, AppRef]:
    """Cluster id -> its application, for applications in a stage not open to the public (or all)."""
    wf = workflow or load_workflow()
    with Session(engine) as s:
        # a cluster applied for again: its newest application decides (an older rejected one does not)
        newest = {r.cluster_id: r for r in _refs(s)}
    if every_stage:
        return newest
    private = set(wf.private_stages)
    return {cid: r for cid, r in newest.items() if r.stage in private}


def visible_applications(session: Session, who: Any) -> list[Application]:
    """The applications an account may see, newest first."""
    ids = [r.id for r in _refs(session) if may_see_application(who, r)]
    if not ids:
        return []
    return list(session.scalars(select(Application).where(Application.id.in_(ids)).order_by(Application.id.desc())))


def get_visible(session: Session, who: Any, application_id: int) -> Application:
    """One application if the account may see it, else NotVisible."""
    refs = _refs(session, Application.id == application_id)
    if not refs or not may_see_application(who, refs[0]):
        raise NotVisible(N_("no application %(application_id)s"), application_id=application_id)
    return session.get(Application, application_id)


def create_application(
    session: Session,
    who: Any,
    *,
    name: str,
    leading_industries: list[str],
    members: list[str],
    year: int,
    declared: dict[str, float] | None = None,
    workflow_id: str = DEFAULT_WORKFLOW,
) -> Application:
    """A county bureau's new cluster application (a draft), with its cluster and members checked."""
    if who.role != "county_applicant":
        raise NotPermitted(N_("only a county bureau may create an application"))
    name = name.strip()
    if not name:
        raise WorkflowError(N_("the cluster needs a name"))
    _refuse_control(name)
    codes = [c.strip() for c in leading_industries if c.strip()]
    if not codes:
        raise WorkflowError(N_("give at least one leading industry code"))
    known = set(session.scalars(select(Industry.code).where(Industry.code.in_(codes))))
    if unknown := [c for c in codes if c not in known]:
        raise WorkflowError(N_("unknown industry code(s): %(unknown)s"), unknown=", ".join(unknown))
    usccs = sorted({m.strip().upper() for m in members if m.strip()})
    found = dict(
        session.execute(select(Enterprise.uscc, Enterprise.county_code).where(Enterprise.uscc.in_(usccs))).all()
    )
    if missing := [u for u in usccs if u not in found]:
        raise WorkflowError(N_("enterprise(s) not in the registry: %(missing)s"), missing=", ".join(missing[:10]))
    now = audit.utcnow()
    cluster = Cluster(
        code=f"APP-{who.region_code}-{year}-{uuid.uuid4().hex[:6]}",
        name=name,
        county_code=who.region_code,
        leading_industries=codes,
        declared=declared or {},
        status="draft",
        year=year,
        fictional=False,
    )
    session.add(cluster)
    session.flush()
    session.add_all(ClusterMember(cluster_id=cluster.id, uscc=u) for u in usccs)
    application = _draft(cluster.id, who.region_code, year, workflow_id, who, now)
    session.add(application)
    session.flush()
    audit.record(
        session,
        who.username,
        "application.create",
        f"application:{application.id}",
        {"cluster": cluster.code, "members": len(usccs)},
    )
    return application


def _draft(cluster_id: int, county_code: str, year: int, workflow_id: str, who: Any, now) -> Application:
    """A new application in its first stage (draft, version 1), created by `who` at `now`."""
    return Application(
        cluster_id=cluster_id,
        county_code=county_code,
        year=year,
        workflow=workflow_id,
        stage="draft",
        version=1,
        created_by=who.id,
        created_at=now,
        updated_at=now,
    )


# An application in one of these stages is over: its cluster may be applied for again.
CLOSED_STAGES = ("rejected", "revoked")


def holds_public_stage(status: str) -> bool:
    """Whether a registry cluster's own status is a public standing (notice, recognised, re-review) that a
    new application must not replace; rejected and revoked ones may be applied for again."""
    return status in load_workflow().public_stages and status not in CLOSED_STAGES


def open_application_of(session: Session, cluster_id: int) -> Application | None:
    """The cluster's newest application that is not over (not rejected, not revoked), if any."""
    return session.scalars(
        select(Application).where(Application.cluster_id == cluster_id, Application.stage.not_in(CLOSED_STAGES))
        .order_by(Application.id.desc()).limit(1)
    ).first()


def open_application(session: Session, who: Any, cluster_id: int, year: int) -> Application:
    """An application for a cluster already in the registry (imported, or built by the demo): a draft for one
    never applied for or whose application was rejected or revoked; for one the registry holds as
    recognised (or in notice, or in re-review), an application in that stage, whose yearly reports and
    re-review then run in the workflow. Refused while the cluster has an application that is not over."""
    cluster = session.get(Cluster, cluster_id)
    if cluster is None:
        raise NotVisible(N_("no cluster %(cluster_id)s"), cluster_id=cluster_id)
    if who.role != "county_applicant" or not covers(who.region_code, cluster.county_code):
        raise NotPermitted(N_("only the cluster's county bureau may apply for it"))
    if (current := open_application_of(session, cluster_id)) is not None:
        raise WorkflowError(N_("the cluster already has application #%(application_id)s in stage %(stage)s: "
                               "continue that one"), application_id=current.id, stage=current.stage)
    now = audit.utcnow()
    application = _draft(cluster.id, cluster.county_code, year, DEFAULT_WORKFLOW, who, now)
    detail: dict[str, Any] = {"cluster": cluster.code}
    if holds_public_stage(cluster.status):
        # A cluster recognised outside the system (imported) enters the workflow with its standing, so that
        # its yearly reports and its re-review run here; a draft would hide a recognised cluster meanwhile.
        application.stage = detail["adopted"] = cluster.status
        if cluster.year:  # recognised some day of that year: its validity read to the year's end
            application.valid_until = load_workflow().validity_end(date(cluster.year, 12, 31))
    else:
        cluster.status = "draft"
    session.add(application)
    session.flush()
    audit.record(session, who.username, "application.create", f"application:{application.id}", detail)
    return application


def act(
    session: Session,
    who: Any,
    application_id: int,
    action_id: str,
    expected_version: int,
    comment: str = "",
    *,
    today: date,
    verdict_for: Callable[[int], dict | None] | None = None,
) -> Transition:
    """Apply one workflow action; a stale `expected_version` raises Conflict and changes nothing."""
    application = get_visible(session, who, application_id)
    wf = load_workflow(application.workflow)
    action = wf.action(action_id)
    if action is None:
        raise WorkflowError(N_("unknown action %(action_id)s"), action_id=action_id)
    if who.role not in action.roles:
        raise NotPermitted(N_("your role may not %(en)s"), en=action.en.lower())
    if application.version != expected_version:
        raise _conflict(session, application)
    if application.stage not in action.from_:
        raise WorkflowError(
            N_("cannot %(en)s an application in stage %(stage)s"), en=action.en.lower(), stage=application.stage
        )
    comment = (comment or "").strip()
    _refuse_control(comment)
    if action.comment_required and not comment:
        raise WorkflowError(N_("%(en)s needs a comment"), en=action.en)
    _check_requirements(session, wf, application, action.requires, today)
    values: dict[str, Any] = {
        "stage": action.to,
        "version": Application.version + 1,
        "updated_at": audit.utcnow(),
    }
    if action.starts_notice:
        values.update(notice_start=today, notice_end=wf.notice_end(today))
    if action.starts_validity:
        values["valid_until"] = wf.validity_end(today)
    if action.attach_verdict and verdict_for is not None:
        values["verdict"] = verdict_for(application.cluster_id)
    # the version in the WHERE clause makes the check and the change one atomic step
    result = session.execute(
        update(Application)
        .where(Application.id == application.id, Application.version == expected_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise _conflict(session, session.get(Application, application_id))
    transition = Transition(
        application_id=application.id,
        action=action.id,
        from_stage=application.stage,
        to_stage=action.to,
        account_id=who.id,
        at=audit.utcnow(),
        comment=comment,
    )
    session.add(transition)
    cluster = session.get(Cluster, application.cluster_id)
    cluster.status = action.to
    session.flush()
    audit.record(
        session,
        who.username,
        f"application.{action.id}",
        f"application:{application.id}",
        {"from": application.stage, "to": action.to, "comment": comment},
    )
    session.expire(application)
    return transition


def _refuse_control(text: str) -> None:
    """PostgreSQL cannot store NUL and no text here needs a control character: refuse them for every caller."""
    if code := control_character(text):
        raise WorkflowError(N_("control character %(code)s is not allowed in text"), code=code)


def _conflict(session: Session, application: Application) -> Conflict:
    session.refresh(application)
    last = session.scalars(
        select(Transition).where(Transition.application_id == application.id).order_by(Transition.id.desc()).limit(1)
    ).first()
    by = ""
    who_when = None
    if last is not None:
        from smecluster.accounts.models import Account

        account = session.get(Account, last.account_id) if last.account_id else None
        who_when = (last.action, account.username if account else "?", f"{last.at:%Y-%m-%d %H:%M}")
        by = f" ({who_when[0]} by {who_when[1]} at {who_when[2]})"
    return Conflict(
        f"someone else changed this application since you opened it{by}; it is now in stage "
        f"{application.stage}. Nothing of yours was saved: review it and try again.",
        application.version,
        application.stage,
        who_when,
    )


def _check_requirements(
    session: Session, wf: Workflow, application: Application, requires: list[str], today: date
) -> None:
    for check in requires:
        if check == "all_experts_scored":
            reviews = list(session.scalars(select(ExpertReview).where(ExpertReview.application_id == application.id)))
            if not reviews:
                raise WorkflowError(N_("assign at least one expert first"))
            if any(r.score is None for r in reviews):
                raise WorkflowError(N_("wait until every assigned expert has scored"))
        elif check == "notice_period_over":
            if application.notice_end is None or today <= application.notice_end:
                raise WorkflowError(
                    N_("the public notice runs until %(notice_end)s"), notice_end=application.notice_end
                )
        elif check == "validity_ending":
            window = int(wf.parameters.get("re_review_window_days", 90))
            if application.valid_until and (application.valid_until - today).days > window:
                raise WorkflowError(
                    N_("re-review opens %(window)s days before %(valid_until)s"),
                    window=window,
                    valid_until=application.valid_until,
                )
