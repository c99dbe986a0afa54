"""Load benchmark of the provincial overview: a server process, a load process, p95 and requests/s.

The database is a generated demo registry (default 4,000,000 enterprises), built once into a SQLite
file and reused on later runs. The server is `smecluster serve` in its own process; the load comes
from this process over loopback with a fixed number of concurrent keep-alive connections.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console

BENCH_USER = "bench_province"
BENCH_PASSWORD = "Bench-Password-2025!"


@dataclass
class Target:
    """The figures of one URL under load."""

    path: str
    first_ms: float = 0.0  # the cold first request (computes the cached aggregates), not in the figures
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """A latency percentile in milliseconds."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def build_database(path: Path, enterprises: int, console: Console) -> str:
    """Generate the demo registry at `enterprises` firms into a SQLite file (reused when present)."""
    from sqlalchemy import func, select

    from smecluster.accounts.users import add_user
    from smecluster.db import open_database, session_scope
    from smecluster.demo.generator import BASE_FIRMS, generate
    from smecluster.demo.writer import write_demo
    from smecluster.registry.models import Enterprise

    url = f"sqlite:///{path.resolve()}"
    engine = open_database(url)
    with engine.connect() as c:
        have = c.execute(select(func.count()).select_from(Enterprise)).scalar() or 0
    if have < enterprises * 0.95:
        t0 = time.perf_counter()
        with console.status(f"generating and storing {enterprises:,} enterprises (once, not timed) ..."):
            write_demo(engine, generate(scale=enterprises / BASE_FIRMS))
        console.print(f"built {path} in {time.perf_counter() - t0:.0f} s")
    with session_scope(engine) as s:
        from smecluster.accounts.models import Account

        if s.query(Account).filter_by(username=BENCH_USER).first() is None:
            add_user(s, BENCH_USER, BENCH_PASSWORD, "province_admin", region_code="320000")
    return url


def _session_for(url: str) -> tuple[str, str]:
    from smecluster.accounts.sessions import start_session
    from smecluster.accounts.users import authenticate
    from smecluster.db import open_database, session_scope

    with session_scope(open_database(url)) as s:
        account = authenticate(s, BENCH_USER, BENCH_PASSWORD).account
        return start_session(s, account)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    """`smecluster serve` in its own process; returns once it answers."""
    env = dict(os.environ, SMECLUSTER_DATABASE_URL=url, SMECLUSTER_WEB_WORKERS=str(workers))
    proc = subprocess.Popen(
        [sys.executable, "-m", "smecluster.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start within 120 s")


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked); return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:] if line)}
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status


async def _load(port: int, target: Target, cookie: str, connections: int, seconds: float) -> None:
    """`connections` keep-alive connections, each sending the next request when the last is answered.

    A minimal HTTP/1.1 client on asyncio streams: general-purpose clients cost more CPU per request
    than the server under test and would measure themselves.
    """
    request = (
        f"GET {target.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
        "Accept: text/html,application/json\r\nAccept-Language: zh-CN\r\n\r\n"
    ).encode("ascii")
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                try:
                    writer.write(request)
                    await writer.drain()
                    ok = await _read_response(reader) == 200
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    ok = False
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                target.latencies_ms.append((time.perf_counter() - t0) * 1000)
                target.requests += 1
                target.errors += not ok
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    target.seconds = time.perf_counter() - started


def run(
    enterprises: int = 4_000_000,
    connections: int = 32,
    seconds: float = 10.0,
    workers: int = 1,
    db_file: Path | None = None,
    console: Console | None = None,
) -> list[Target]:
    """Build (or reuse) the database, start the server, warm it up, then load each target in turn."""
    console = console or Console()
    path = db_file or Path(f"bench-web-{enterprises}.db")
    url = build_database(path, enterprises, console)
    token, _csrf = _session_for(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(url, port, workers)
    try:
        cookies = {"sid": token}
        targets = [Target("/overview"), Target("/api/overview")]
        started = time.perf_counter()
        with console.status("waiting for the server's background warm-up (aggregates and verdicts) ..."):
            for t in targets:
                t0 = time.perf_counter()
                r = httpx.get(base + t.path, cookies=cookies, timeout=900)
                t.first_ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"first request {t.path}: HTTP {r.status_code}")
            while not httpx.get(base + "/api/overview", cookies=cookies, timeout=900).json()["verdicts_ready"]:
                if time.perf_counter() - started > 1800:
                    raise RuntimeError("verdicts not ready after 30 minutes")
                time.sleep(1)
            ready_s = time.perf_counter() - started
            for t in targets:
                for _ in range(3 * workers):
                    httpx.get(base + t.path, cookies=cookies, timeout=900)
        console.print(f"verdicts ready {ready_s:.0f} s after the first request (background warm-up)")
        for t in targets:
            with console.status(f"{connections} connections on {t.path} for {seconds:.0f} s ..."):
                asyncio.run(_load(port, t, f"sid={token}", connections, seconds))
        return targets
    finally:
        server.terminate()
        server.wait(timeout=30)
