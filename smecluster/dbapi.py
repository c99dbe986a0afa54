"""Plain DB-API connections (no SQLAlchemy) for a short command's keyed read, and the schema's head.

Importing SQLAlchemy and building an engine costs a short command (`diagnose` answered from the
kept tables) more than its work. `registry_state` reads the registry's version and the schema's
migration revision through the driver alone: sqlite3 (read-only) or psycopg. The URL is the one
SQLAlchemy would be given (`smecluster.config.database_url`).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


def head_revisions() -> set[str] | None:
    """Head revision ids read from the migration files' `revision` / `down_revision` lines, without
    importing Alembic (None when a file is written otherwise: then Alembic decides)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v.strip()) for k, v in _REVISION.findall(path.read_text(encoding="utf-8")))
        rev = re.fullmatch(r"['\"]([^'\"]+)['\"]", found.get("revision", ""))
        if rev is None:
            return None
        revisions.add(rev.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", found.get("down_revision", "")))
    return revisions - parents or None


def sqlite_file(url: str) -> str | None:
    """The database file of a `sqlite:///PATH` URL (None for other databases or in memory)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):].split("?", 1)[0]
    return path if path and path != ":memory:" else None


def connect(url: str):
    """A DB-API connection to the database at `url`: a SQLite file opened read-only, or PostgreSQL
    through psycopg in autocommit. ValueError for another kind of URL."""
    path = sqlite_file(url)
    if path is not None:
        import sqlite3

        return sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=30)
    scheme = url.split("://", 1)[0]
    if scheme not in ("postgresql", "postgresql+psycopg"):
        raise ValueError(f"no plain connection for {scheme} URLs")
    import psycopg

    parts = urlsplit(url)
    args = dict(parse_qsl(parts.query))
    for name, value in (("host", parts.hostname), ("port", parts.port), ("dbname", unquote(parts.path[1:])),
                        ("user", parts.username and unquote(parts.username)),
                        ("password", parts.password and unquote(parts.password))):
        if value:
            args[name] = value
    return psycopg.connect(autocommit=True, **args)


def registry_state(url: str) -> tuple[str, int] | None:
    """(registry_id, version) of the registry at `url` when its schema is at the newest migration,
    else None (then the caller opens the database the usual way, which migrates it)."""
    heads = head_revisions()
    conn = connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT version_num FROM alembic_version")
        if heads is None or {r[0] for r in cur.fetchall()} != heads:
            return None
        cur.execute("SELECT registry_id, version FROM registry_version WHERE id = 1")
        row = cur.fetchone()
    finally:
        conn.close()
    return (row[0], int(row[1])) if row else None
