"""The audit trail: append-only entries chained by HMAC-SHA-256, checkpoints, and a verifier listing every break.

Chain versions: 1 = plain SHA-256 (entries written before the key existed, kept as they were),
2 = HMAC-SHA-256 under the instance's audit key (`audit_key.py`), which lives outside the database,
so a database owner who edits rows cannot recompute valid hashes. Once a keyed entry exists, a
plain entry after it is a break. Appends are serialised on both databases (decision 0801).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from smecluster.workflow.audit_key import audit_key, key_path
from smecluster.workflow.models import AuditEntry

GENESIS = "0" * 64
CHAIN_PLAIN = 1
CHAIN_KEYED = 2
PG_AUDIT_LOCK = 7401  # advisory lock id serialising appenders on PostgreSQL


def utcnow() -> datetime:
    """Now in UTC, without tzinfo (as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _body(prev_hash: str, at: datetime, actor: str, action: str, target: str, detail: dict) -> bytes:
    return json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor, action, target, detail],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode("utf-8")


def entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, target: str, detail: dict, key: bytes | None = None
) -> str:
    """The hash of one entry: its fields in canonical JSON after the previous hash; HMAC when a key is given."""
    body = _body(prev_hash, at, actor, action, target, detail)
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def lock_chain(session: Session) -> None:
    """Take the database's write lock for the chain before the last hash is read.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the Python driver opens a transaction
    only before the first INSERT/UPDATE/DELETE, so an append with no earlier write would read the
    last hash outside any lock; BEGIN IMMEDIATE takes the database's single write lock first. When a
    transaction is already open, an earlier write in it already holds that lock.
    """
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_AUDIT_LOCK})
    elif dialect == "sqlite":
        raw = conn.connection.dbapi_connection
        if not raw.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def record(session: Session, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
    """Append an entry in the caller's transaction (so it commits or rolls back with the change)."""
    lock_chain(session)
    key = audit_key(session.get_bind())
    if key is None:  # cannot happen with create=True; keeps the type honest
        raise RuntimeError("no audit key")
    last = session.scalars(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    prev = last or GENESIS
    at = utcnow()
    detail = json.loads(json.dumps(detail or {}, default=str))
    session.add(
        AuditEntry(
            at=at,
            actor=actor,
            action=action,
            target=target,
            detail=detail,
            prev_hash=prev,
            hash=entry_hash(prev, at, actor, action, target, detail, key),
            chain=CHAIN_KEYED,
        )
    )
    session.flush()


@dataclass(frozen=True)
class Break:
    """One place where the chain does not hold."""

    entry_id: int | None
    reason: str


@dataclass
class AuditCheck:
    """The result of verifying the chain: how many entries, and every break found."""

    entries: int
    breaks: list[Break] = field(default_factory=list)
    plain_entries: int = 0  # entries written before the key existed (SHA-256 only)

    @property
    def ok(self) -> bool:
        """Whether every entry is intact."""
        return not self.breaks

    @property
    def first_bad_id(self) -> int | None:
        """The id of the first broken entry (None when intact)."""
        return self.breaks[0].entry_id if self.breaks else None

    @property
    def reason(self) -> str:
        """Why the first break is one."""
        return self.breaks[0].reason if self.breaks else ""


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at one moment: kept by an auditor to catch a later shortened or rewritten tail."""

    entries: int
    last_id: int | None
    head_hash: str
    at: str

    def to_json(self) -> str:
        """The checkpoint as a small JSON document."""
        return json.dumps(
            {"entries": self.entries, "last_id": self.last_id, "head_hash": self.head_hash, "at": self.at}, indent=1
        )

    @classmethod
    def from_json(cls, raw: str) -> Checkpoint:
        """Read a checkpoint written by `to_json` (ValueError when it is not one)."""
        try:
            data = json.loads(raw)
            return cls(int(data["entries"]), data["last_id"], str(data["head_hash"]), str(data.get("at", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not an audit checkpoint: {exc}") from None


def checkpoint(engine: Engine) -> Checkpoint:
    """The current head of the chain (hash and id of the last entry, number of entries)."""
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        last = conn.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    return Checkpoint(
        count, last.id if last else None, last.hash if last else GENESIS, utcnow().isoformat(timespec="seconds")
    )


def verify(engine: Engine, point: Checkpoint | None = None) -> AuditCheck:
    """Recompute the chain in id order and list every entry whose link or content is wrong.

    After a break the walk goes on from the stored hash, so each independent edit is reported once.
    With a checkpoint, the entry it names must still exist with the same hash and the same number of
    entries up to it: a shortened or rewritten tail is a break even if the chain was recomputed.
    """
    key = audit_key(engine, create=False)  # verifying never makes a key: a missing one is reported
    prev = GENESIS
    check = AuditCheck(0)
    keyed_seen = False
    seen_checkpoint = point is None or point.last_id is None
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                AuditEntry.id,
                AuditEntry.at,
                AuditEntry.actor,
                AuditEntry.action,
                AuditEntry.target,
                AuditEntry.detail,
                AuditEntry.prev_hash,
                AuditEntry.hash,
                AuditEntry.chain,
            ).order_by(AuditEntry.id)
        )
        for row in rows:
            check.entries += 1
            if row.prev_hash != prev:
                check.breaks.append(Break(row.id, "previous-hash link broken (entry removed, inserted or reordered)"))
            if row.chain == CHAIN_KEYED and key is None:
                check.breaks.append(Break(row.id, f"audit key not found ({key_path(engine.url)}): cannot verify"))
                break
            if row.chain == CHAIN_KEYED:
                keyed_seen = True
                expected = entry_hash(row.prev_hash, row.at, row.actor, row.action, row.target, row.detail, key)
            elif keyed_seen:
                check.breaks.append(Break(row.id, "unkeyed entry after keyed entries (chain rewritten)"))
                expected = row.hash
            else:
                check.plain_entries += 1
                expected = entry_hash(row.prev_hash, row.at, row.actor, row.action, row.target, row.detail)
            if not hmac.compare_digest(expected, row.hash):
                check.breaks.append(Break(row.id, "content does not match its hash (entry altered or wrong key)"))
            if point is not None and point.last_id is not None and row.id == point.last_id:
                seen_checkpoint = True
                if row.hash != point.head_hash:
                    check.breaks.append(Break(row.id, "differs from the checkpoint's head (tail rewritten)"))
                if check.entries != point.entries:
                    check.breaks.append(
                        Break(row.id, f"{check.entries} entries up to the checkpoint, it recorded {point.entries}")
                    )
            prev = row.hash
    if not seen_checkpoint:
        check.breaks.append(
            Break(point.last_id, f"checkpoint entry {point.last_id} is missing (tail shortened to {check.entries})")
        )
    return check
