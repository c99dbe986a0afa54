"""Expert review: the province assigns experts to an application, each expert scores it once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smecluster.accounts.models import Account
from smecluster.messages import N_
from smecluster.workflow import audit
from smecluster.workflow.applications import NotPermitted, WorkflowError, get_visible
from smecluster.workflow.models import ExpertReview

SCORE_RANGE = (0.0, 100.0)


def assign_expert(session: Session, who: Any, application_id: int, expert_username: str) -> ExpertReview:
    """Assign an expert account to an application under review (provincial department only)."""
    application = get_visible(session, who, application_id)
    if who.role != "province_admin":
        raise NotPermitted(N_("only the provincial department assigns experts"))
    if application.stage != "under_review":
        raise WorkflowError(N_("experts are assigned while the application is under review"))
    expert = session.scalars(select(Account).where(Account.username == expert_username)).first()
    if expert is None or expert.role != "expert" or not expert.active:
        raise WorkflowError(N_("%(expert_username)s is not an active expert account"), expert_username=expert_username)
    exists = session.scalars(
        select(ExpertReview).where(ExpertReview.application_id == application_id, ExpertReview.expert_id == expert.id)
    ).first()
    if exists:
        raise WorkflowError(N_("%(expert_username)s is assigned already"), expert_username=expert_username)
    review = ExpertReview(
        application_id=application_id,
        expert_id=expert.id,
        assigned_by=who.id,
        assigned_at=audit.utcnow(),
        comment="",
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        who.username,
        "application.assign_expert",
        f"application:{application_id}",
        {"expert": expert_username},
    )
    return review


def score_application(session: Session, who: Any, application_id: int, score: float, comment: str = "") -> ExpertReview:
    """An assigned expert's score (0-100) and comment; once given it cannot be changed."""
    get_visible(session, who, application_id)
    review = session.scalars(
        select(ExpertReview).where(ExpertReview.application_id == application_id, ExpertReview.expert_id == who.id)
    ).first()
    if review is None:
        raise NotPermitted(N_("you are not assigned to this application"))
    if review.score is not None:
        raise WorkflowError(N_("you have scored this application already"))
    if not SCORE_RANGE[0] <= score <= SCORE_RANGE[1]:
        raise WorkflowError(N_("a score is between 0 and 100"))
    review.score = float(score)
    review.comment = (comment or "").strip()
    review.scored_at = audit.utcnow()
    audit.record(session, who.username, "application.score", f"application:{application_id}", {"score": score})
    return review


def reviews_of(session: Session, application_id: int) -> list[tuple[ExpertReview, str]]:
    """The expert reviews of an application with the experts' names."""
    rows = session.execute(
        select(ExpertReview, Account.display_name)
        .join(Account, Account.id == ExpertReview.expert_id)
        .where(ExpertReview.application_id == application_id)
        .order_by(ExpertReview.id)
    )
    return [(r, n) for r, n in rows]
