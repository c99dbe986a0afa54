"""OpenAPI property test (schemathesis): generated requests to every API operation cause no server error."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from web_fakes import PASSWORD, database  # noqa: F401  (database: a fixture)

from smecluster.accounts.sessions import start_session
from smecluster.accounts.users import authenticate
from smecluster.db import open_database, session_scope
from smecluster.services.demo import build_demo
from smecluster.web.app import WebSettings, create_app


@pytest.fixture(scope="module")
def site(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
    """The app over a small demo registry (SQLite, then PostgreSQL), and a provincial session."""
    tmp = tmp_path_factory.mktemp("openapi")
    _, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    from smecluster.accounts.users import add_user

    with session_scope(engine) as s:
        add_user(s, "prov", PASSWORD, "province_admin", region_code="320000")
        token, csrf = start_session(s, authenticate(s, "prov", PASSWORD).account)
    app = create_app(url, settings=WebSettings(evidence_dir=tmp / "evidence"))
    return app, token, csrf


def _run_all(app, **call_kwargs) -> list[str]:
    """Call every operation with a few generated cases; collect failures instead of stopping."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document lists no operation"
    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.call_and_validate(checks=[not_a_server_error], **call_kwargs)

        try:
            run()
        except Exception as exc:  # collect: one operation failing must not hide the others
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:300]}")
    return failures


def test_no_server_error_anonymous(site):
    """Anonymous generated requests to every API operation never get a 5xx."""
    assert not _run_all(site[0])


def test_no_server_error_as_province(site):
    """Generated requests from a logged-in provincial account never get a 5xx."""
    app, token, csrf = site
    assert not _run_all(app, cookies={"sid": token}, headers={"X-CSRF-Token": csrf})
