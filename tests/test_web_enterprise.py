"""The enterprise user's page: its own data, and updating its own figures."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_fakes import USCC, csrf_of, fake_evaluate, login, make_users, seed

from smecluster.db import open_database, session_scope
from smecluster.registry.models import EnterpriseYear
from smecluster.web.app import WebSettings, create_app
from smecluster.workflow.models import AuditEntry


@pytest.fixture
def firm(database_url, tmp_path):
    """A client logged in as the enterprise account of USCC[0], and the engine."""
    engine = open_database(database_url)
    seed(engine)
    make_users(engine)
    app = create_app(database_url, evaluate=fake_evaluate, settings=WebSettings(evidence_dir=tmp_path))
    c = TestClient(app, base_url="https://testserver")
    assert login(c, "firm_a").status_code == 303
    return c, engine


def test_enterprise_updates_own_figures_with_audit(firm):
    """Posted figures are stored for the firm and year, and the audit keeps old and new values."""
    c, engine = firm
    r = c.post("/enterprise/figures", data={"year": "2024", "employees": "120", "cloud": "yes",
                                            "csrf_token": csrf_of(c)}, follow_redirects=False)
    assert r.status_code == 303
    with session_scope(engine) as s:
        row = s.get(EnterpriseYear, (USCC[0], 2024))
        assert row.employees == 120 and row.cloud is True
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "enterprise.figures")).one()
        assert entry.detail["new"] == {"employees": 120, "cloud": True}


def test_negative_figure_refused(firm):
    """A negative employee count is refused naming the field, and nothing is stored."""
    c, engine = firm
    r = c.post("/enterprise/figures", data={"year": "2024", "employees": "-3", "csrf_token": csrf_of(c)})
    assert r.status_code == 400 and "employees：不得为负数" in r.text
    with session_scope(engine) as s:
        assert s.get(EnterpriseYear, (USCC[0], 2024)) is None
