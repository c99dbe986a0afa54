"""Build the demo: generate the fictional registry, store it, evaluate its clusters; then walk the
five national clusters through the workflow to recognised and open the near misses as applications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, select

from smecluster.db import session_scope
from smecluster.demo.generator import generate, load_specs
from smecluster.demo.writer import write_demo
from smecluster.policy.verdict import Verdict
from smecluster.services.clusters import evaluate_clusters

DEMO_ACTOR = "demo"  # the user name the demo's workflow steps are recorded under in the audit trail


def build_demo(
    engine: Engine, seed: int = 20230331, scale: float = 1.0, year: int = 2025
) -> tuple[dict[str, int], list[Verdict]]:
    """Generate and store the demo registry, then evaluate every cluster under the province's pack."""
    counts = write_demo(engine, generate(seed=seed, scale=scale, year=year))
    return counts, evaluate_clusters(engine, year=year)


@dataclass
class _Actor:
    """Who a demo workflow step is recorded as: a role and region, the demo's name in the audit trail."""

    id: int | None
    username: str
    role: str
    region_code: str | None


def stage_demo(engine: Engine, year: int = 2025, today: date | None = None) -> list[tuple[str, str, str]]:
    """Create the demo accounts (`smecluster user demo`), recognise the five national clusters through
    every workflow step (each one audited), and submit the near misses as applications.

    Only recognised clusters (and the other public stages) are shown to anonymous visitors; the near
    misses are seen after logging in. Returns the (user, role, password) of the accounts created now.
    """
    from smecluster.accounts.demo import create_demo_accounts
    from smecluster.accounts.models import Account
    from smecluster.registry.models import Cluster
    from smecluster.workflow.applications import act, open_application
    from smecluster.workflow.definition import load_workflow
    from smecluster.workflow.reviews import assign_expert, score_application

    specs = load_specs()["clusters"]
    national = [s["code"] for s in specs if s.get("national")]
    near_misses = [s["code"] for s in specs if s.get("fails")]
    wf = load_workflow()
    day = (today or date.today()) - timedelta(days=30)  # the notice has run its course by today
    with session_scope(engine) as s:
        created = create_demo_accounts(s)
        expert = s.scalars(select(Account).where(Account.role == "expert", Account.active.is_(True))).first()
        clusters = {c.code: c for c in s.scalars(select(Cluster).where(Cluster.code.in_(national + near_misses)))}
        province = _Actor(None, DEMO_ACTOR, "province_admin", "320000")
        for code in national + near_misses:
            cluster = clusters.get(code)
            if cluster is None:
                continue
            county = _Actor(None, DEMO_ACTOR, "county_applicant", cluster.county_code)
            city = _Actor(None, DEMO_ACTOR, "city_reviewer", cluster.county_code[:4] + "00")
            application = open_application(s, county, cluster.id, year)
            steps = [(county, "submit", "")]
            if code in national:
                steps += [(city, "recommend", "演示：市级推荐"), (province, "start_review", "")]
            for who, action, comment in steps:
                act(s, who, application.id, action, application.version, comment, today=day)
            if code not in national:
                continue
            if expert is not None:
                assign_expert(s, province, application.id, expert.username)
                judge = _Actor(expert.id, expert.username, "expert", expert.region_code)
                score_application(s, judge, application.id, 90.0, "演示：材料齐全，符合认定条件")
            act(s, province, application.id, "publish_notice", application.version, "", today=day)
            recognised_on = wf.notice_end(day) + timedelta(days=1)
            act(s, province, application.id, "recognise", application.version, "演示：认定", today=recognised_on)
    return created
