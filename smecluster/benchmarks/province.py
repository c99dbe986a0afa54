"""Province-scale benchmark: every command as a user runs it, on stored registries in SQLite and PostgreSQL.

Builds (or reuses) a demo registry of N firms (default 4,000,000) in a SQLite file and in a PostgreSQL
schema, each with the import's bulk loader, then runs each command as a separate process and reports
its wall time and peak resident memory (the process's own and its children's, from wait4's rusage).
The web figures come from a `smecluster serve` process: verdicts ready after start, the diagnosis
page under 8 connections, and /targets and /discover once warm.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from smecluster.benchmarks.web import Target, _free_port, _load, _session_for

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_USER = "bench_province"
LOCATE_POINTS = 100
SCHEMA_ENV = "SMECLUSTER_BENCH_PG_SCHEMA"


@dataclass
class Figure:
    """One measured step."""

    name: str
    seconds: float
    peak_mb: float | None = None
    note: str = ""
    cpu: float | None = None  # user + system seconds of the process and its children


@dataclass
class Backend:
    """The figures of one database."""

    name: str
    url: str
    figures: list[Figure] = field(default_factory=list)


def user_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a command runs in as a user runs it: with Python's bytecode caches written and
    read (a shell that sets PYTHONDONTWRITEBYTECODE, as a sandbox may, recompiles every module of the
    package on each start: ~50 ms of a short command)."""
    env = dict(env or os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_process(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str, float]:
    """Run a command; (seconds, peak resident MB of it and its children, stdout, CPU seconds). Fails on a
    non-zero exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=user_env(env))
        _, status, usage = os.wait4(proc.pid, 0)  # rusage of the process and its waited-for children
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, problem = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[2:8])} ... exited {proc.returncode}: {problem[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text, usage.ru_utime + usage.ru_stime


def cli(url: str, *args: str) -> list[str]:
    """The argv of `smecluster --db URL ARGS` in this interpreter."""
    return [sys.executable, "-m", "smecluster.cli.main", "--db", url, *args]


def pg_schema(enterprises: int) -> str:
    """The PostgreSQL schema of the benchmark's registry: `$SMECLUSTER_BENCH_PG_SCHEMA` if set (a run
    of one's own, never touching the shared one), else `bench_province_<N>`."""
    name = os.environ.get(SCHEMA_ENV) or f"bench_province_{enterprises}"
    if not name.replace("_", "").isalnum():
        raise ValueError(f"{SCHEMA_ENV}={name!r}: letters, digits and underscores only")
    return name


def pg_url(enterprises: int) -> str:
    """The PostgreSQL URL of the benchmark's schema (kept between runs)."""
    from sqlalchemy import create_engine, text

    schema = pg_schema(enterprises)
    engine = create_engine(PG_SERVER)
    with engine.begin() as c:
        c.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()
    return f"{PG_SERVER}?options=-csearch_path%3D{schema}"


def build(url: str, enterprises: int) -> dict:
    """Generate and store the demo registry (in this process); returns what was written."""
    from smecluster.accounts.users import add_user
    from smecluster.db import open_database, session_scope
    from smecluster.demo.generator import BASE_FIRMS, generate
    from smecluster.demo.writer import write_demo

    engine = open_database(url)
    t0 = time.perf_counter()
    data = generate(scale=enterprises / BASE_FIRMS)
    generated = time.perf_counter() - t0
    counts = write_demo(engine, data)
    with session_scope(engine) as s:
        from smecluster.accounts.models import Account

        if s.query(Account).filter_by(username=BENCH_USER).first() is None:
            add_user(s, BENCH_USER, "Bench-Password-2025!", "province_admin", region_code="320000")
    return {"generate_s": round(generated, 1), "write_s": round(time.perf_counter() - t0 - generated, 1), **counts}


def stored_firms(url: str) -> int:
    """Enterprises stored at `url` (0 when the schema is new)."""
    from sqlalchemy import text

    from smecluster.db import open_database

    engine = open_database(url)
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM enterprise")).scalar() or 0
    engine.dispose()
    return n


def sample(url: str) -> tuple[str, str]:
    """(a firm's code, the county with the most firms) of the registry."""
    from sqlalchemy import text

    from smecluster.db import open_database

    engine = open_database(url)
    with engine.connect() as c:
        uscc = c.execute(text("SELECT MIN(uscc) FROM designation WHERE kind = 'srdi_sme'")).scalar()
        county = c.execute(text("SELECT county_code FROM cluster ORDER BY id LIMIT 1")).scalar()
    engine.dispose()
    return uscc, county


def points_csv(path: Path, n: int = LOCATE_POINTS) -> Path:
    """`n` points spread over China's provincial capitals (so the all-China index is needed)."""
    rng = np.random.default_rng(7)
    capitals = np.array([(116.40, 39.90), (121.47, 31.23), (113.26, 23.13), (104.07, 30.57), (87.62, 43.82),
                         (91.11, 29.65), (126.53, 45.80), (118.78, 32.06), (114.30, 30.59), (108.94, 34.34)])
    pick = capitals[rng.integers(0, len(capitals), n)] + rng.normal(0, 0.2, (n, 2))
    path.write_text("id,lon,lat\n" + "".join(f"{i},{x:.5f},{y:.5f}\n" for i, (x, y) in enumerate(pick)))
    return path


def commands(backend: Backend, work: Path, uscc: str, county: str, only: tuple[str, ...] = ()) -> None:
    """Each command as a separate process, with its time and peak memory (`only`: the steps whose
    name starts with one of these words)."""
    url = backend.url
    steps = [
        ("evaluate enterprises (whole registry; builds the snapshot)",
         cli(url, "evaluate", "enterprises", "--format", "parquet", "-o", str(work / "all.parquet"))),
        ("evaluate enterprises (whole registry, snapshot current)",
         cli(url, "evaluate", "enterprises", "--format", "parquet", "-o", str(work / "all.parquet"))),
        (f"evaluate enterprises --county {county}",
         cli(url, "evaluate", "enterprises", "--county", county, "--format", "parquet", "-o", str(work / "c.parquet"))),
        ("diagnose (one firm)", cli(url, "diagnose", uscc, "--format", "json", "-o", str(work / "d.json"))),
        ("evaluate cluster --all (first since the registry changed: keeps the indicators)",
         cli(url, "evaluate", "cluster", "--all", "--format", "json")),
        ("evaluate cluster --all", cli(url, "evaluate", "cluster", "--all", "--format", "json")),
        ("targets", cli(url, "targets", "--format", "json")),
    ]
    for name, argv in steps:
        if only and not name.startswith(only):
            continue
        # the keyed questions are short: the slowest of three runs, not a lucky one
        runs = [run_process(argv) for _ in range(3 if name.startswith("diagnose") else 1)]
        slowest = max(runs, key=lambda r: r[0])
        seconds, peak, cpu = slowest[0], max(r[1] for r in runs), slowest[3]
        backend.figures.append(Figure(name, seconds, peak, note=f"max of {len(runs)}" if len(runs) > 1 else "",
                                      cpu=cpu))
        print(f"  {backend.name}: {name}: {seconds:.2f} s (CPU {cpu:.2f} s), {peak:,.0f} MB", flush=True)


def web(backend: Backend, uscc: str, connections: int = 8, seconds: float = 10.0) -> None:
    """Serve, then: verdicts ready after start; diagnosis page p95 under load; /targets and /discover warm."""
    token, _ = _session_for(backend.url)
    port = _free_port()
    base, cookies = f"http://127.0.0.1:{port}", {"sid": token}
    env = dict(os.environ, SMECLUSTER_DATABASE_URL=backend.url, SMECLUSTER_WARM_UP="1", SMECLUSTER_COOKIE_SECURE="0")
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "smecluster.cli.main", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                r = httpx.get(base + "/api/overview", cookies=cookies, timeout=60)
                if r.status_code == 200 and r.json().get("verdicts_ready"):
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 1800:
                raise RuntimeError("verdicts not ready after 30 minutes")
            time.sleep(0.2)
        ready = time.perf_counter() - started
        backend.figures.append(Figure("web: verdicts ready after start", ready))
        print(f"  {backend.name}: verdicts ready {ready:.1f} s after start", flush=True)
        page = Target(f"/enterprises/{uscc}/diagnosis")
        httpx.get(base + page.path, cookies=cookies, timeout=120)
        asyncio.run(_load(port, page, f"sid={token}", connections, seconds))
        backend.figures.append(Figure(f"web: diagnosis page p95 at {connections} connections",
                                      page.percentile(0.95) / 1000,
                                      note=f"{page.rps:.0f} req/s, {page.errors} errors"))
        print(f"  {backend.name}: diagnosis p95 {page.percentile(0.95):.0f} ms ({page.rps:.0f} req/s, "
              f"{page.errors} errors)", flush=True)
        for path in ("/targets", "/discover"):
            t0 = time.perf_counter()
            httpx.get(base + path, cookies=cookies, timeout=1800)
            cold = time.perf_counter() - t0
            warm = []
            for _ in range(5):
                t0 = time.perf_counter()
                r = httpx.get(base + path, cookies=cookies, timeout=120)
                warm.append(time.perf_counter() - t0)
            backend.figures.append(Figure(f"web: {path} warm (max of 5)", max(warm),
                                          note=f"first {cold:.1f} s, HTTP {r.status_code}"))
            print(f"  {backend.name}: {path} first {cold:.1f} s, warm max {max(warm) * 1000:.0f} ms", flush=True)
    finally:
        server.terminate()
        _, _, usage = os.wait4(server.pid, 0)
        backend.figures.append(Figure("web: server process peak", 0.0, usage.ru_maxrss / 1024))


def locate(work: Path) -> Figure:
    """`smecluster locate` of 100 points all over China, no --province (index cached on disk)."""
    points = points_csv(work / "points.csv")
    argv = [sys.executable, "-m", "smecluster.cli.main", "locate", str(points), "-o", str(work / "located.csv")]
    first = run_process(argv)  # builds the all-China index once if it is not cached yet
    seconds, peak, _, cpu = run_process(argv)
    return Figure("locate 100 points, all China", seconds, peak, note=f"first call {first[0]:.1f} s", cpu=cpu)


def run(enterprises: int, backends: list[str], work: Path, web_seconds: float = 10.0,
        only: tuple[str, ...] = ()) -> list[Backend]:
    """Build or reuse each registry, then run every command against it; print the figures as they come.

    `only`: run just the steps whose name starts with one of these words (e.g. "diagnose", "locate",
    "evaluate enterprises", "web"); all when empty."""
    work.mkdir(parents=True, exist_ok=True)
    out = []
    for name in backends:
        url = f"sqlite:///{(work / f'bench-province-{enterprises}.db').resolve()}" if name == "sqlite" \
            else pg_url(enterprises)
        backend = Backend(name, url)
        out.append(backend)
        have = stored_firms(url)
        if have < enterprises * 0.95:
            seconds, peak, text, _ = run_process(
                [sys.executable, "-m", "smecluster.benchmarks.province", "build", url, str(enterprises)])
            info = json.loads(text.strip().splitlines()[-1])
            backend.figures.append(Figure(f"build the {enterprises:,}-firm registry (bulk loader)", seconds, peak,
                                          note=f"generate {info['generate_s']} s, write {info['write_s']} s"))
            print(f"  {name}: built in {seconds:.0f} s ({info}), peak {peak:,.0f} MB", flush=True)
        else:
            backend.figures.append(Figure(f"registry reused ({have:,} firms)", 0.0))
        uscc, county = sample(url)
        commands(backend, work, uscc, county, only)
        if not only or "web" in only:
            web(backend, uscc, seconds=web_seconds)
    if not only or "locate" in only:
        loc = locate(work)
        print(f"  locate: {loc.seconds:.2f} s (CPU {loc.cpu:.2f} s), {loc.peak_mb:,.0f} MB ({loc.note})", flush=True)
        for b in out:
            b.figures.append(loc)
    return out


def table(backends: list[Backend]) -> str:
    """The figures side by side, one row per step, one column pair per database."""
    names = [f.name for f in backends[0].figures]
    for b in backends[1:]:
        names += [f.name for f in b.figures if f.name not in names]
    head = "| step | " + " | ".join(f"{b.name} time | {b.name} peak" for b in backends) + " |"
    lines = [head, "|" + " --- |" * (1 + 2 * len(backends))]
    for n in names:
        cells = []
        for b in backends:
            f = next((f for f in b.figures if f.name == n), None)
            if f is None:
                cells += ["", ""]
                continue
            t = f"{f.seconds * 1000:.0f} ms" if "p95" in n or "warm" in n else f"{f.seconds:.2f} s"
            t += f" (CPU {f.cpu:.2f} s)" if f.cpu is not None else ""
            cells += [t + (f" ({f.note})" if f.note else ""), f"{f.peak_mb:,.0f} MB" if f.peak_mb else ""]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "build":
    print(json.dumps(build(sys.argv[2], int(sys.argv[3]))))
