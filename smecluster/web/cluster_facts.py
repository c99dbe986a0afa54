"""What a cluster page shows beside the verdict: members, platforms, applications and documents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from smecluster.registry.models import Cluster, ClusterMember, Designation, Enterprise, Industry, Platform
from smecluster.web.tables import TableSpec, sql_table_page
from smecluster.workflow.applications import AppRef, may_see_application
from smecluster.workflow.models import Application, Evidence, ExpertReview, Transition

MEMBER_TABLE = TableSpec("members", ("uscc", "name", "industry_code"), "uscc",
                         search=("uscc", "name", "industry_code"))
MEMBER_COLUMNS = {"uscc": Enterprise.uscc, "name": Enterprise.name, "industry_code": Enterprise.industry_code}


def industry_names(session: Session, codes: set[str] | list[str]) -> dict[str, str]:
    """GB/T 4754 names of the industry codes (division, group or class) the registry knows."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return dict(session.execute(select(Industry.code, Industry.name).where(Industry.code.in_(codes))).all())


def cluster_facts(session: Session, cluster_id: int, who: Any, query: Any = None) -> dict[str, Any]:
    """Members (one page of the table, sorted and filtered as `query` asks, and their count), platforms,
    and the applications this viewer may see with their history."""
    stmt = (
        select(Enterprise.uscc, Enterprise.name, Enterprise.industry_code, Enterprise.county_code)
        .join(ClusterMember, ClusterMember.uscc == Enterprise.uscc)
        .where(ClusterMember.cluster_id == cluster_id)
    )
    table = sql_table_page(MEMBER_TABLE, session, stmt, MEMBER_COLUMNS, query or {})
    member_count, members = table.total, table.rows
    tiers: dict[str, list[str]] = {}
    if members:
        for uscc, kind in session.execute(
            select(Designation.uscc, Designation.kind).where(Designation.uscc.in_([m.uscc for m in members]))
        ):
            tiers.setdefault(uscc, []).append(kind)
    # linked to the cluster, or hosted by a member (as the platform indicator counts them)
    hosted = select(ClusterMember.uscc).where(ClusterMember.cluster_id == cluster_id)
    platforms = list(
        session.scalars(
            select(Platform)
            .where(or_(Platform.cluster_id == cluster_id, Platform.host_uscc.in_(hosted)))
            .order_by(Platform.level, Platform.name)
        )
    )
    applications = []
    for a in session.scalars(select(Application).where(Application.cluster_id == cluster_id)):
        experts = set(session.scalars(select(ExpertReview.expert_id).where(ExpertReview.application_id == a.id)))
        if may_see_application(who, AppRef(a.id, a.cluster_id, a.county_code, a.stage, experts)):
            history = list(session.scalars(
                select(Transition).where(Transition.application_id == a.id).order_by(Transition.id)))
            files = list(session.scalars(select(Evidence).where(Evidence.application_id == a.id)))
            applications.append({"a": a, "history": history, "files": files})
    # industry codes shown with their GB/T 4754 names (members' classes and the leading industries)
    codes = {m.industry_code for m in members if m.industry_code}
    leading = session.scalar(select(Cluster.leading_industries).where(Cluster.id == cluster_id)) or []
    codes |= set(leading)
    industries = industry_names(session, codes)
    return {"member_count": member_count, "members": members, "member_table": table, "tiers": tiers,
            "platforms": platforms, "applications": applications, "industries": industries}
