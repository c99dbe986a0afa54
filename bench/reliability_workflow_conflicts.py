"""Reliability: N concurrent, conflicting workflow actions against a served app, on SQLite and PostgreSQL.

A small demo registry gets 10 applications in one county and two accounts for each of the county,
its city and the province. `smecluster serve` runs in a child process; T client threads log in at
the same moment (concurrent logins), then each repeatedly reads an application's version and stage
and posts an action its role may take there (submit, recommend, return), half through the HTML form
(multipart, CSRF field) and half through the JSON API (X-CSRF-Token), until N actions were posted.
Many clients act on the same version at once, so most must lose with 409.

Checked afterwards: exactly one winner per (application, version) among the clients; every winning
response has its transition and its audit entry (0 lost updates), each application's version equals 1 +
its transitions, no 5xx, and `audit verify` passes.

Usage: python bench/reliability_workflow_conflicts.py [--actions 1000] [--threads 40] [--db sqlite] [--db URL]
Not part of CI.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLI = str(Path(sys.executable).with_name("smecluster"))
PASSWORD = "Bench-Conflict-42"
COUNTY, CITY, PROVINCE = "320581", "320500", "320000"
ACCOUNTS = {
    "b_county1": ("county_applicant", COUNTY),
    "b_county2": ("county_applicant", COUNTY),
    "b_city1": ("city_reviewer", CITY),
    "b_city2": ("city_reviewer", CITY),
    "b_prov1": ("province_admin", PROVINCE),
    "b_prov2": ("province_admin", PROVINCE),
}
# the cycle every role takes part in: draft/returned -submit-> submitted -recommend-> recommended,
# and `return` (city from submitted or recommended, province from recommended) back to returned
ACTIONS = {"submit", "recommend", "return"}


def _setup(url: str) -> list[int]:
    """Demo registry, accounts, 10 draft applications in Changshu; their ids."""
    from smecluster.accounts.users import add_user
    from smecluster.db import open_database, session_scope
    from smecluster.registry.models import Cluster, Enterprise
    from smecluster.services.demo import build_demo
    from smecluster.workflow.applications import create_application

    engine = open_database(url)
    build_demo(engine, scale=0.02)
    with session_scope(engine) as s:
        for name, (role, region) in ACCOUNTS.items():
            add_user(s, name, PASSWORD, role, region_code=region, display_name=name)
    with session_scope(engine) as s:
        firms = list(s.scalars(select(Enterprise.uscc).where(Enterprise.county_code == COUNTY).limit(10)))
        industry = s.scalar(select(Cluster.leading_industries).where(Cluster.county_code == COUNTY).limit(1))[0]

        class Who:
            id, username, role, region_code = None, "bench", "county_applicant", COUNTY

        ids = [
            create_application(
                s, Who(), name=f"并发测试集群{i}", leading_industries=[industry], members=firms[:3], year=2025
            ).id
            for i in range(10)
        ]
    engine.dispose()
    return ids


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _login(base: str, name: str) -> tuple[httpx.Client, str]:
    # no keep-alive: the server closes idle connections after 5 s, and a request racing that close
    # would be reset with its outcome unknown
    client = httpx.Client(
        base_url=base, timeout=120, follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=0)
    )
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token})
    if r.status_code != 303:
        raise RuntimeError(f"login {name}: {r.status_code}")
    page = client.get("/account/password")
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _post(http: httpx.Client, rng: random.Random, app_id: int, action: str, version: int, comment: str, csrf: str):
    """The action through the HTML form (multipart, CSRF field) or the JSON API (header), half each."""
    if rng.random() < 0.5:
        return http.post(
            f"/applications/{app_id}/actions/{action}",
            data={"version": str(version), "comment": comment, "csrf_token": csrf},
            files={"attachment": ("", b"")},
        )
    return http.post(
        f"/api/applications/{app_id}/actions/{action}",
        json={"version": version, "comment": comment},
        headers={"X-CSRF-Token": csrf},
    )


def run(db: str, actions: int, threads: int, seed: int) -> dict:
    """Serve one database, run the clients, check the result."""
    from smecluster.workflow.audit import verify
    from smecluster.workflow.definition import load_workflow
    from smecluster.workflow.models import Application, AuditEntry, Transition

    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        if db == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'conflicts.db'}"
        else:
            schema = "conf_" + uuid.uuid4().hex[:10]
            server = create_engine(db)
            with server.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            server.dispose()
            url = f"{db}?options=-csearch_path%3D{schema}"
        app_ids = _setup(url)
        port = _free_port()
        env = {**os.environ, "SMECLUSTER_EVIDENCE_DIR": str(Path(tmp) / "evidence"), "SMECLUSTER_WARM_UP": "0"}
        server_proc = subprocess.Popen(
            [CLI, "--db", url, "serve", "--port", str(port), "--insecure-cookies"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(base + "/login", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            wf = load_workflow()
            results: list[tuple[int, int, str, int, str]] = []  # (app, version, action, status, via)
            lock = threading.Lock()
            budget = [actions]
            gate = threading.Barrier(threads)
            errors: list[str] = []
            logged_in: list[float] = []

            def client(index: int) -> None:
                rng = random.Random(seed * 1000 + index)
                name = list(ACCOUNTS)[index % len(ACCOUNTS)]
                role = ACCOUNTS[name][0]
                gate.wait()  # every client logs in at the same moment
                try:
                    http, csrf = _login(base, name)
                except Exception as exc:
                    errors.append(f"{name}: {exc}")
                    return
                with lock:
                    logged_in.append(time.perf_counter())
                while True:
                    with lock:
                        if budget[0] <= 0:
                            return
                    app_id = rng.choice(app_ids)
                    got = http.get(f"/api/applications/{app_id}")
                    if got.status_code != 200:  # a draft is the county's alone
                        time.sleep(0.005)
                        continue
                    current = got.json()
                    possible = [a.id for a in wf.available(current["stage"], role) if a.id in ACTIONS]
                    if not possible:
                        time.sleep(0.005)
                        continue
                    with lock:
                        if budget[0] <= 0:
                            return
                        budget[0] -= 1
                    action, version = rng.choice(possible), current["version"]
                    comment = f"{name} v{version} {action}"
                    try:
                        r = _post(http, rng, app_id, action, version, comment, csrf)
                    except httpx.HTTPError as exc:  # the outcome is unknown: counted apart
                        with lock:
                            results.append((app_id, version, action, -1, type(exc).__name__))
                        continue
                    via = "form" if r.request.url.path.startswith("/applications") else "api"
                    with lock:
                        results.append((app_id, version, action, r.status_code, via))

            started = time.perf_counter()
            workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            seconds = time.perf_counter() - started
        finally:
            os.kill(server_proc.pid, signal.SIGTERM)
            server_proc.wait(timeout=30)
        wins = [r for r in results if r[3] in (200, 303)]
        per_version = collections.Counter((r[0], r[1]) for r in wins)
        statuses = collections.Counter(r[3] for r in results)
        engine = create_engine(url)
        with engine.connect() as c:
            transitions = c.execute(select(func.count()).select_from(Transition)).scalar()
            versions = dict(c.execute(select(Application.id, Application.version)).all())
            per_app = dict(
                c.execute(select(Transition.application_id, func.count()).group_by(Transition.application_id)).all()
            )
            audited = c.execute(
                select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action.in_([f"application.{a}" for a in ACTIONS])
                )
            ).scalar()
            comments = set(c.execute(select(Transition.application_id, Transition.comment)).all())
        engine.dispose()
        # a win is lost when no transition of its application carries its comment (version and action)
        lost = [w for w in wins if not any(a == w[0] and c.endswith(f"v{w[1]} {w[2]}") for a, c in comments)]
        check = verify(create_engine(url))
        summary = {
            "db": "sqlite" if db == "sqlite" else "postgresql",
            "posted": len(results),
            "seconds": seconds,
            "seconds until every client logged in": (max(logged_in) - started) if logged_in else None,
            "statuses": dict(statuses),
            "winners": len(wins),
            "max winners per version": max(per_version.values(), default=0),
            "transitions": transitions,
            "version == 1 + transitions": all(versions[a] == 1 + per_app.get(a, 0) for a in app_ids),
            "audit entries for actions": audited,
            "unknown outcome (transport error)": sum(1 for r in results if r[3] == -1),
            # a winner without its transition is lost; transitions beyond winners and unknowns are phantoms
            "lost updates": len(lost) + max(0, transitions - len(wins) - sum(1 for r in results if r[3] == -1)),
            "audit verify": check.ok,
            "login errors": len(errors),
            "server errors": sum(n for s, n in statuses.items() if s >= 500),
        }
        if schema is not None:
            server = create_engine(db)
            with server.begin() as c:
                c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            server.dispose()
        return summary


def main() -> None:
    """Run on each database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=40)
    parser.add_argument("--db", action="append", help="'sqlite' or a PostgreSQL URL (repeatable)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    bad = False
    for db in args.db or ["sqlite", PG_DEFAULT]:
        s = run(db, args.actions, args.threads, args.seed)
        print(s, flush=True)
        bad |= (
            s["max winners per version"] != 1
            or s["lost updates"] != 0
            or not s["audit verify"]
            or s["server errors"] != 0
            or not s["version == 1 + transitions"]
        )
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
