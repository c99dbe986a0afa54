"""The audit trail: append-only entries chained by SHA-256, and a verifier that finds tampering."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from smecluster.workflow.models import AuditEntry

GENESIS = "0" * 64


def utcnow() -> datetime:
    """Now in UTC, without tzinfo (as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def entry_hash(prev_hash: str, at: datetime, actor: str, action: str, target: str, detail: dict) -> str:
    """The hash of one entry: its fields in canonical JSON, after the previous entry's hash."""
    body = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor, action, target, detail],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(session: Session, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
    """Append an entry in the caller's transaction (so it commits or rolls back with the change)."""
    if session.get_bind().dialect.name == "postgresql":
        # serialise appenders so two transactions cannot chain onto the same previous entry
        session.execute(text("SELECT pg_advisory_xact_lock(7401)"))
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
            hash=entry_hash(prev, at, actor, action, target, detail),
        )
    )
    session.flush()


@dataclass
class AuditCheck:
    """The result of verifying the chain: how many entries, and the first bad one if any."""

    entries: int
    first_bad_id: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether every entry is intact."""
        return self.first_bad_id is None


def verify(engine: Engine) -> AuditCheck:
    """Recompute the chain in id order and report the first entry that does not match."""
    prev = GENESIS
    count = 0
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
            ).order_by(AuditEntry.id)
        )
        for row in rows:
            count += 1
            if row.prev_hash != prev:
                return AuditCheck(count, row.id, "previous-hash link broken (entry removed or reordered)")
            if entry_hash(prev, row.at, row.actor, row.action, row.target, row.detail) != row.hash:
                return AuditCheck(count, row.id, "content does not match its hash (entry altered)")
            prev = row.hash
    return AuditCheck(count, None)
