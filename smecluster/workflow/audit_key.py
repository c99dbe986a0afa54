"""The audit chain's HMAC key: kept outside the database, generated on first use.

Where the key comes from, first match wins:
1. `SMECLUSTER_AUDIT_KEY`: the key itself, 64 hex digits;
2. `SMECLUSTER_AUDIT_KEY_FILE`: a file holding the key as hex;
3. a SQLite database `DIR/NAME.db`: the file `DIR/NAME.db.audit-key` beside it;
4. any other database: `$XDG_DATA_HOME/smecluster/audit-keys/HOST-PORT-DB-DIGEST.key`
   (default `~/.local/share/...`), DIGEST naming the URL without its password.
A missing file is created (mode 0600) with 32 random bytes; two processes starting at once agree
on one key because the file is published with an atomic link that fails when it exists.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL

ENV_KEY = "SMECLUSTER_AUDIT_KEY"
ENV_KEY_FILE = "SMECLUSTER_AUDIT_KEY_FILE"

_CACHE: dict[str, bytes] = {}


class AuditKeyError(RuntimeError):
    """The key source exists but does not hold a usable key."""


def key_path(url: URL) -> Path:
    """The key file used for a database URL when no environment variable names one."""
    if os.environ.get(ENV_KEY_FILE):
        return Path(os.environ[ENV_KEY_FILE]).expanduser()
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = Path(url.database).resolve()
        return db.with_name(db.name + ".audit-key")
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    label = "-".join(str(p) for p in (url.host or "local", url.port or "", url.database or "") if p != "")

    def named(rendered: str) -> Path:
        return base / "smecluster" / "audit-keys" / f"{label}-{hashlib.sha256(rendered.encode()).hexdigest()[:16]}.key"

    # URL.set(password=None) leaves the password as it is: the URL is made again without it, so that a new
    # password (a rotation) finds the same key
    bare = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    path = named(bare.render_as_string(hide_password=False))
    if url.password is not None and not path.exists():
        legacy = named(url.render_as_string(hide_password=False))  # named with the password before 2026-12
        if legacy.exists():
            return legacy
    return path


def _parse(text: str, source: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise AuditKeyError(f"{source}: the audit key must be hexadecimal") from None
    if len(key) < 16:
        raise AuditKeyError(f"{source}: the audit key must have at least 16 bytes (32 hex digits)")
    return key


def _create(path: Path) -> None:
    """Publish a new random key at `path` unless another process did it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_hex(32) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and refuses to replace a key someone else published
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def audit_key(engine: Engine, *, create: bool = True) -> bytes | None:
    """The HMAC key of the audit chain of this database (created on first use; None if missing and not `create`)."""
    if os.environ.get(ENV_KEY):
        return _parse(os.environ[ENV_KEY], ENV_KEY)
    path = key_path(engine.url)
    cached = _CACHE.get(str(path))
    if cached is not None:
        return cached
    if not path.exists():
        if not create:
            return None
        _create(path)
    key = _parse(path.read_text(encoding="ascii"), str(path))
    _CACHE[str(path)] = key
    return key


def forget_cached_keys() -> None:
    """Drop cached keys (tests that swap key files)."""
    _CACHE.clear()
