"""Benchmark of `smecluster quality` as users run it: a separate process on a stored registry.

Per database: the checks computed over a current columnar snapshot (the findings kept from an earlier
run removed first), the same command again (findings kept beside the snapshot), a county's view, and the
JSON of every finding. Each figure: wall seconds, CPU seconds and peak resident memory of the process
and its children (wait4).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    """One command's figures."""

    name: str
    seconds: float
    cpu: float
    peak_mb: float


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[Run, str]:
    """Run `args`; its wall and CPU seconds and peak resident MB (children included), and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env or dict(os.environ))
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, problem = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args[3:])} failed: {problem[-2000:]}")
    return Run(" ".join(args[5:]), seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024), text


def cli(url: str, *args: str) -> list[str]:
    """argv of `smecluster --db URL ARGS` in this interpreter."""
    return [sys.executable, "-m", "smecluster.cli.main", "--db", url, *args]


def snapshot_dir(url: str) -> Path | None:
    """The live snapshot directory of the database at `url` (None before one is built)."""
    from smecluster.analytics.stored_snapshot import _live, snapshot_root
    from smecluster.db import get_engine

    live = _live(snapshot_root(get_engine(url)))
    return live[0] if live else None


def forget_findings(url: str) -> int:
    """Remove the findings kept beside the snapshot (so the next run computes every check)."""
    found = snapshot_dir(url)
    gone = 0
    for f in (found.glob("quality-*.parquet") if found else []):
        f.unlink()
        gone += 1
    return gone


def first_county(url: str) -> str:
    """The county of the first cluster (a county with an application)."""
    from sqlalchemy import text

    from smecluster.db import get_engine

    with get_engine(url).connect() as c:
        return c.execute(text("SELECT county_code FROM cluster ORDER BY id LIMIT 1")).scalar()


def run(url: str, repeat: int = 2) -> list[Run]:
    """Every figure for one database (the first run builds the snapshot if it is stale)."""
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        return _runs(url, repeat, Path(tmp))


def _runs(url: str, repeat: int, work: Path) -> list[Run]:
    runs = []
    first, _ = timed(cli(url, "quality", "--format", "json", "-o", str(work / "warmup.json")))
    first.name = "first run (snapshot built if stale; checks computed)"
    runs.append(first)
    for _ in range(repeat):
        forget_findings(url)
        r, _ = timed(cli(url, "quality"))
        r.name = "quality (every check computed; snapshot current)"
        runs.append(r)
    r, _ = timed(cli(url, "quality"))
    r.name = "quality (findings kept from the run before)"
    runs.append(r)
    county = first_county(url)
    r, _ = timed(cli(url, "quality", "--county", county))
    r.name = f"quality --county {county} (findings kept)"
    runs.append(r)
    r, _ = timed(cli(url, "quality", "--format", "json", "-o", str(work / "all.json")))
    r.name = "quality --format json -o FILE (findings kept)"
    runs.append(r)
    return runs
