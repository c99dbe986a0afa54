"""Which clusters a viewer may see: registry clusters and public stages for all, private stages in scope."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from smecluster.web.security import Viewer
from smecluster.workflow.applications import may_see_application, private_applications


def visible_verdicts(app: FastAPI, who: Viewer) -> list[Any]:
    """Verdicts of the clusters this viewer may see (an application in a private stage only in scope)."""
    verdicts = app.state.verdicts.all()
    private = private_applications(app.state.engine)
    if not private:
        return verdicts
    return [
        v
        for v in verdicts
        if int(v.cluster["id"]) not in private or may_see_application(who, private[int(v.cluster["id"])])
    ]
