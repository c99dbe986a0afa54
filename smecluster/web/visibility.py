"""Which clusters a viewer may see: one rule for the list, the cluster page, the API and the overviews.

A cluster's stage is its application's stage, or for a registry cluster without one its `status`.
Everybody, anonymous visitors included, sees the clusters in a stage the workflow pack marks public
(public notice, recognised, re-review, revoked), whatever their origin. Any other stage is seen only
by accounts that may see an application in it (`may_see_application`: business roles in scope,
drafts only by their county, experts when assigned).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from smecluster.registry.models import Cluster
from smecluster.web.security import Viewer
from smecluster.workflow.applications import AppRef, may_see_application, private_applications
from smecluster.workflow.definition import Workflow, load_workflow


def may_see_cluster(who: Any, ref: AppRef, workflow: Workflow | None = None) -> bool:
    """Whether `who` (a Viewer, or None for anonymous) may see a cluster whose stage is `ref.stage`."""
    wf = workflow or load_workflow()
    if ref.stage in wf.public_stages:
        return True
    if getattr(who, "id", None) is None:  # anonymous (None, or a viewer with no account)
        return False
    return may_see_application(who, ref)


def cluster_refs(engine: Engine) -> dict[int, AppRef]:
    """Cluster id -> what visibility needs: its application's ref (whatever the stage), else the registry
    cluster's own status (a ref with no application: id 0)."""
    applications = private_applications(engine, every_stage=True)
    with Session(engine) as s:
        rows = s.execute(select(Cluster.id, Cluster.county_code, Cluster.status)).all()
    return {r.id: applications.get(r.id) or AppRef(0, r.id, r.county_code, r.status) for r in rows}


def visible_verdicts(app: FastAPI, who: Viewer) -> list[Any]:
    """Verdicts of the clusters this viewer may see."""
    verdicts = app.state.verdicts.all()
    refs = cluster_refs(app.state.engine)
    return [v for v in verdicts if (ref := refs.get(int(v.cluster["id"]))) is not None and may_see_cluster(who, ref)]


def audience(who: Viewer) -> str:
    """The part of a viewer that decides which clusters of a region inside its scope it sees (its role):
    two viewers of one region with the same audience see the same clusters, so overviews are cached by it."""
    return who.role or "anonymous"
