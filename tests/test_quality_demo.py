"""The demo's planted doubtful figures show on the Kunshan application's page, verdicts unchanged."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from web_fakes import database, demo_url, login  # noqa: F401  (module fixtures)

from smecluster.db import open_database, session_scope
from smecluster.demo.doubtful import CLUSTER
from smecluster.registry.models import Cluster
from smecluster.services.demo import stage_demo
from smecluster.web.app import WebSettings, create_app
from smecluster.workflow.models import Application

PLANTED = ("name_differs", "county_change_unregistered", "debt_ratio_above_limit", "magnitude_jump_and_return",
           "duplicate_platforms")


def test_planted_figures_show_on_the_application_page(demo_url, tmp_path):  # noqa: F811
    """The province sees each planted check on the near miss's page and in the JSON twin."""
    engine = open_database(demo_url)
    stage_demo(engine)  # the near misses become submitted applications
    with session_scope(engine) as s:
        app_id = s.scalar(select(Application.id).join(Cluster, Cluster.id == Application.cluster_id)
                          .where(Cluster.code == CLUSTER))
    app = create_app(demo_url, settings=WebSettings(secure_cookies=True, evidence_dir=tmp_path / "ev"))
    c = TestClient(app, base_url="https://testserver")
    assert login(c, "province").status_code == 303
    page = c.get(f"/applications/{app_id}")
    assert page.status_code == 200
    for check in PLANTED:
        assert f'data-check="{check}"' in page.text, check
    data = c.get(f"/api/applications/{app_id}/quality").json()
    assert set(PLANTED) <= {f["check"] for f in data["findings"]}
    ranked = c.get("/api/quality").json()["applications"]
    place = next(i for i, a in enumerate(ranked) if a["cluster_id"] == data["cluster_id"])
    assert ranked[place]["high"] >= 3  # the output slip, the twin platforms (two findings)
    assert all(a["high"] >= ranked[place]["high"] for a in ranked[:place])
