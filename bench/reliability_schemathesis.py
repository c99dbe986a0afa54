"""Reliability: Schemathesis over every operation of the OpenAPI document (multipart forms included),
anonymous and as each business role, on SQLite and PostgreSQL; counts server errors (5xx).

The app runs over a small demo registry with the demo workflow staged (recognised national clusters,
submitted near misses) and one account per role. Each operation gets --examples generated requests per
account; the CSRF token travels in the X-CSRF-Token header, so forms and JSON actions are exercised past
the CSRF check.

Usage: python bench/reliability_schemathesis.py [--examples 50] [--db sqlite] [--db URL]
Not part of CI (tests/test_web_openapi.py runs a few examples per operation in CI).
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import uuid
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import create_engine, text

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "Schema-Thesis-42"
ROLES = {
    "s_province": ("province_admin", "320000"),
    "s_city": ("city_reviewer", "320500"),
    "s_county": ("county_applicant", "320581"),
    "s_expert": ("expert", "320000"),
}


def _app(url: str, tmp: Path):
    from smecluster.accounts.passwords import use_fast_hashing_for_tests
    from smecluster.accounts.sessions import start_session
    from smecluster.accounts.users import add_user, authenticate
    from smecluster.db import open_database, session_scope
    from smecluster.services.demo import build_demo, stage_demo
    from smecluster.web.app import WebSettings, create_app

    use_fast_hashing_for_tests()
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    stage_demo(engine)
    sessions = {"anonymous": ({}, {})}
    with session_scope(engine) as s:
        for name, (role, region) in ROLES.items():
            add_user(s, name, PASSWORD, role, region_code=region)
            token, csrf = start_session(s, authenticate(s, name, PASSWORD).account)
            sessions[name] = ({"sid": token}, {"X-CSRF-Token": csrf})
    return create_app(url, settings=WebSettings(evidence_dir=tmp / "evidence")), sessions


def _exercise(operation, examples: int, who: str, cookies: dict, headers: dict, calls: collections.Counter) -> None:
    @given(operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def one(case):
        calls[who] += 1
        case.call_and_validate(checks=[not_a_server_error], cookies=cookies, headers=headers)

    one()


def run(db: str, examples: int) -> dict:
    """Every operation, every account: generated requests; the 5xx found."""
    schema_name = None
    with tempfile.TemporaryDirectory() as tmp:
        if db == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'schema.db'}"
        else:
            schema_name = "st_" + uuid.uuid4().hex[:10]
            server = create_engine(db)
            with server.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema_name}"'))
            server.dispose()
            url = f"{db}?options=-csearch_path%3D{schema_name}"
        app, sessions = _app(url, Path(tmp))
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [r.ok() for r in schema.get_all_operations()]
        calls: collections.Counter = collections.Counter()
        failures: list[str] = []
        multipart = sum(
            1
            for op in operations
            if "multipart/form-data" in str(op.definition.raw.get("requestBody", {}).get("content", {}))
        )
        for who, (cookies, headers) in sessions.items():
            for operation in operations:
                try:
                    _exercise(operation, examples, who, cookies, headers, calls)
                except Exception as exc:
                    failures.append(f"{who} {operation.method.upper()} {operation.path}: {str(exc)[:300]}")
        if schema_name is not None:
            server = create_engine(db)
            with server.begin() as c:
                c.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE'))
            server.dispose()
    return {
        "db": "sqlite" if db == "sqlite" else "postgresql",
        "operations": len(operations),
        "multipart operations": multipart,
        "requests": sum(calls.values()),
        "by account": dict(calls),
        "operations with a server error": len(failures),
        "failures": failures,
    }


def main() -> None:
    """Run on each database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--db", action="append", help="'sqlite' or a PostgreSQL URL (repeatable)")
    args = parser.parse_args()
    bad = 0
    for db in args.db or ["sqlite", PG_DEFAULT]:
        result = run(db, args.examples)
        failures = result.pop("failures")
        print(result, flush=True)
        for f in failures:
            print("  ", f)
        bad += len(failures)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
