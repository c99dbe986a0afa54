"""Reliability figure: hundreds of concurrent logins (right, wrong, locked) against a real `smecluster serve`.

Usage: python bench/bench_logins.py [--requests 400] [--threads 60] [--db sqlite|postgresql|both]
       [--pg postgresql://postgres@127.0.0.1:5432/test]
For each database: a fresh database with 10 good accounts, 10 attacked accounts (wrong passwords
only) and 5 accounts locked beforehand; the server runs as a uvicorn subprocess with real argon2.
Checks and prints: status of every answer, the audit chain verified (and rows sharing a previous
hash), and for each attacked account the number of wrong passwords actually checked (must be the
lockout threshold, 5, however many arrive) and the lock.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text

from smecluster.accounts.models import Account
from smecluster.accounts.users import add_user, authenticate, disable_user
from smecluster.db import open_database, session_scope
from smecluster.registry.models import Region
from smecluster.workflow.audit import verify
from smecluster.workflow.models import AuditEntry

PASSWORD = "Bench-Login-Pass-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(url: str) -> None:
    engine = open_database(url)
    with session_scope(engine) as s:
        s.add(Region(code="320000", name="江苏省", level="province", parent_code=None))
    with session_scope(engine) as s:
        for kind, n in (("good", 10), ("attacked", 10), ("locked", 5)):
            for i in range(n):
                add_user(s, f"{kind}{i}", PASSWORD, "expert", region_code="320000")
        add_user(s, "disabled0", PASSWORD, "expert", region_code="320000")
    with session_scope(engine) as s:
        disable_user(s, "disabled0")
    for i in range(5):
        for _ in range(5):
            with session_scope(engine) as s:
                authenticate(s, f"locked{i}", "Wrong-Pass-word-0")


def _attempt(base: str, username: str, password: str, timing: list[float] | None = None) -> int | str:
    try:
        return _attempt_once(base, username, password, timing)
    except httpx.HTTPError as exc:  # counted and printed, never hidden
        return f"error {type(exc).__name__}"


def _attempt_once(base: str, username: str, password: str, timing: list[float] | None) -> int:
    with httpx.Client(base_url=base, timeout=300) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        start = time.perf_counter()
        r = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        if timing is not None:
            timing.append((time.perf_counter() - start) * 1000)
        return r.status_code


def _refusal_times(base: str, rounds: int = 10) -> dict[str, float]:
    """Median ms of one refused login, one at a time, by why it is refused (they should look alike)."""
    cases = {
        "wrong password": lambda i: (f"good{i % 10}", "Wrong-Pass-word-x"),
        "unknown name": lambda i: (f"ghost{i}", PASSWORD),
        "disabled": lambda i: ("disabled0", PASSWORD),
        "locked": lambda i: (f"attacked{i % 10}", PASSWORD),
    }
    out = {}
    for name, make in cases.items():
        times: list[float] = []
        for i in range(rounds):
            _attempt(base, *make(i), timing=times)
        out[name] = statistics.median(times)
    return out


def run_one(url: str, requests: int, threads: int) -> dict:
    """Serve `url`, send the mixed logins, and check the database afterwards."""
    _prepare(url)
    port = _free_port()
    env = {**os.environ, "SMECLUSTER_WARM_UP": "0"}
    log = open(Path(tempfile.gettempdir()) / f"bench-logins-{port}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "smecluster.cli.main", "--db", url, "serve", "--port", str(port), "--insecure-cookies"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        jobs = []
        for k in range(requests):
            kind = k % 8
            if kind < 3:
                jobs.append((f"good{k % 10}", PASSWORD, "good"))
            elif kind < 7:
                jobs.append((f"attacked{k % 10}", f"Wrong-Pass-word-{k}", "attacked"))
            else:
                jobs.append((f"locked{k % 5}", PASSWORD, "locked"))
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            codes = list(pool.map(lambda j: (j[2], _attempt(base, j[0], j[1])), jobs))
        seconds = time.perf_counter() - start
        refusals = _refusal_times(base)
    finally:
        exit_code = server.poll()  # None: still running, as it should be
        server.terminate()
        server.wait(timeout=30)
        log.close()
    engine = open_database(url)
    check = verify(engine)
    with engine.connect() as c:
        prevs = Counter(c.execute(select(AuditEntry.prev_hash)).scalars())
        rows = c.execute(select(AuditEntry.target, AuditEntry.detail).where(AuditEntry.action == "login.fail")).all()
        locks = dict(c.execute(select(Account.username, Account.locked_until)).all())
    checked = Counter(t for t, d in rows if d.get("reason") == "bad password" and t.startswith("account:attacked"))
    return {
        "requests": requests,
        "seconds": seconds,
        "answers": Counter(codes),
        "audit_entries": check.entries,
        "audit_breaks": len(check.breaks),
        "shared_prev_hash": sum(1 for n in prevs.values() if n > 1),
        "wrong_checked_per_attacked": sorted(checked.values()),
        "refusal_ms": refusals,
        "server_exit_during_run": exit_code,
        "attacked_locked": sum(1 for u, v in locks.items() if u.startswith("attacked") and v is not None),
    }


def main() -> None:
    """Run on the chosen databases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--threads", type=int, default=60)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        targets = []
        if args.db in ("sqlite", "both"):
            targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'logins.db'}", None))
        if args.db in ("postgresql", "both"):
            schema = "bench_" + uuid.uuid4().hex[:10]
            with create_engine(args.pg).begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            targets.append(("PostgreSQL", f"{args.pg}?options=-csearch_path%3D{schema}", schema))
        os.environ.setdefault("SMECLUSTER_AUDIT_KEY_FILE", str(Path(tmp) / "audit.key"))
        for name, url, schema in targets:
            try:
                r = run_one(url, args.requests, args.threads)
            finally:
                if schema:
                    with create_engine(args.pg).begin() as c:
                        c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            answers = ", ".join(f"{k} {dict(v)}" for k, v in _by_kind(r["answers"]).items())
            exact = all(n == 5 for n in r["wrong_checked_per_attacked"]) and r["attacked_locked"] == 10
            print(
                f"{name}: {r['requests']} logins from {args.threads} threads in {r['seconds']:.1f} s "
                f"({r['requests'] / r['seconds']:.0f}/s); answers {answers}; audit {r['audit_entries']} entries, "
                f"{r['audit_breaks']} breaks, {r['shared_prev_hash']} shared links; wrong passwords checked per "
                f"attacked account {r['wrong_checked_per_attacked']}, locked {r['attacked_locked']}/10; "
                f"lockout exact: {exact}",
                flush=True,
            )
            if r["server_exit_during_run"] is not None:
                print(f"{name}: the server exited during the run with code {r['server_exit_during_run']}")
            print(f"{name}: median ms of a refused login, one at a time: "
                  + ", ".join(f"{k} {v:.0f}" for k, v in r["refusal_ms"].items()))


def _by_kind(answers: Counter) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for (kind, code), n in answers.items():
        out.setdefault(kind, Counter())[code] += n
    return out


if __name__ == "__main__":
    main()
