"""Reliability: kill -9 an import of N generated enterprise rows at a random moment, then check the database.

Every trial starts from a database holding only regions and industries, runs `smecluster import
enterprises FILE` in a child process, kills it with SIGKILL after a random delay (uniform from the CLI's start-up
to 1.5 times a full import's time), and checks that the database is either unchanged (0 enterprises) or
fully imported (N), that its integrity check passes and that every foreign key of `enterprise` is in
place (the bulk path drops and re-adds them inside its transaction).

Usage: python bench/reliability_kill_import.py [--rows 1000000] [--trials 20] [--db sqlite] [--db postgresql://...]
Not part of CI; prints one line per trial and a summary per database.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from smecluster.benchmarks.imports import generate_enterprises_csv
from smecluster.db import open_database
from smecluster.registry.industries import load_shipped_industries
from smecluster.registry.regions import load_regions

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLI = str(Path(sys.executable).with_name("smecluster"))


def _baseline_sqlite(workdir: Path) -> Path:
    path = workdir / "baseline.db"
    engine = open_database(f"sqlite:///{path}")
    load_regions(engine, "32")
    load_shipped_industries(engine)
    with engine.connect() as c:  # everything in the main file: a copy of it is the whole database
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _has_reference_data(path: Path) -> bool:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT count(*) FROM region").fetchone()[0] > 0
    finally:
        con.close()


def _fresh(db: str, workdir: Path, baseline: Path | None, trial: int) -> tuple[str, str | None]:
    """A database URL ready for one trial (and the PostgreSQL schema to drop afterwards)."""
    if db == "sqlite":
        target = workdir / f"trial{trial}.db"
        shutil.copy(baseline, target)
        if not _has_reference_data(target):  # a bad copy must not pass for a kill's damage
            raise RuntimeError(f"{target}: the copied baseline lacks its regions")
        return f"sqlite:///{target}", None
    schema = "kill_" + uuid.uuid4().hex[:10]
    server = create_engine(db)
    with server.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    server.dispose()
    url = f"{db}?options=-csearch_path%3D{schema}"
    engine = open_database(url)
    load_regions(engine, "32")
    load_shipped_industries(engine)
    engine.dispose()
    return url, schema


def _drop(db: str, schema: str | None) -> None:
    if schema is None:
        return
    server = create_engine(db)
    with server.begin() as c:
        c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    server.dispose()


def _check(url: str, rows: int) -> tuple[int, bool, str]:
    """(enterprises stored, all-or-nothing held, integrity detail)."""
    engine = create_engine(url)
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM enterprise")).scalar()
        if engine.dialect.name == "sqlite":
            integrity = c.execute(text("PRAGMA integrity_check")).scalar()
            orphans = len(c.execute(text("PRAGMA foreign_key_check")).all())
            ok = integrity == "ok" and orphans == 0
            detail = f"integrity_check={integrity}, fk violations={orphans}"
        else:
            fks = c.execute(
                text("SELECT count(*) FROM pg_constraint WHERE conrelid = 'enterprise'::regclass AND contype = 'f'")
            ).scalar()
            orphans = c.execute(
                text(
                    "SELECT count(*) FROM enterprise e LEFT JOIN region r ON r.code = e.county_code "
                    "WHERE r.code IS NULL"
                )
            ).scalar()
            indexes_valid = c.execute(
                text(
                    "SELECT bool_and(i.indisvalid) FROM pg_index i WHERE i.indrelid = 'enterprise'::regclass"
                )
            ).scalar()
            ok = fks >= 2 and orphans == 0 and bool(indexes_valid)
            detail = f"foreign keys={fks}, orphans={orphans}, indexes valid={indexes_valid}"
    engine.dispose()
    return n, n in (0, rows), detail if ok else "FAILED " + detail


def _full_import_seconds(db: str, workdir: Path, baseline: Path | None, csv: Path) -> float:
    url, schema = _fresh(db, workdir, baseline, -1)
    started = time.perf_counter()
    subprocess.run([CLI, "--db", url, "import", "enterprises", str(csv)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    _drop(db, schema)
    return seconds


def run(db: str, rows: int, trials: int, csv: Path, workdir: Path, rng: random.Random) -> dict[str, int]:
    """Run the trials on one database; returns counts of outcomes."""
    baseline = _baseline_sqlite(workdir) if db == "sqlite" else None
    full = _full_import_seconds(db, workdir, baseline, csv)
    started = time.perf_counter()
    subprocess.run([CLI, "import", "--help"], check=True, capture_output=True)
    startup = time.perf_counter() - started  # kills before this only test start-up
    name = "sqlite" if db == "sqlite" else "postgresql"
    print(f"{name}: a full import of {rows:,} rows takes {full:.1f} s (child process; start-up {startup:.1f} s)")
    tally = {"unchanged": 0, "imported": 0, "broken": 0}
    for trial in range(trials):
        url, schema = _fresh(db, workdir, baseline, trial)
        delay = rng.uniform(startup, full * 1.5)  # the import runs slower on a loaded machine
        child = subprocess.Popen(
            [CLI, "--db", url, "import", "enterprises", str(csv)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        finished = child.poll() is not None
        if not finished:
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
        try:
            n, all_or_nothing, detail = _check(url, rows)
        except Exception as exc:  # a database the check cannot even read: keep it for inspection
            kept = workdir.parent / f"kill-trial-{name}-{trial + 1}.db"
            if db == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    src = Path(url.removeprefix("sqlite:///") + suffix)
                    if src.exists():
                        shutil.copy(src, str(kept) + suffix)
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
            n, all_or_nothing, detail = -1, False, f"FAILED {reason} (kept {kept})"
        state = "imported" if n == rows else "unchanged" if n == 0 else "broken"
        if not all_or_nothing or detail.startswith("FAILED"):
            state = "broken"
        tally[state] += 1
        print(
            f"  trial {trial + 1:2d}: kill at {delay:5.1f} s{' (had finished)' if finished else ''}: "
            f"{n:,} enterprises -> {state}; {detail}"
        )
        _drop(db, schema)
        if db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    print(f"{name}: {trials} trials: {tally['unchanged']} unchanged, {tally['imported']} fully imported, "
          f"{tally['broken']} broken")
    return tally


def main() -> None:
    """Generate the file once, then run the trials on each database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--db", action="append", help="'sqlite' or a PostgreSQL URL (repeatable)")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv = generate_enterprises_csv(args.rows, workdir / "enterprises.csv")
        broken = 0
        for db in args.db or ["sqlite", PG_DEFAULT]:
            broken += run(db, args.rows, args.trials, csv, workdir, rng)["broken"]
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
