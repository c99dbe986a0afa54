"""Login sessions: random tokens held by the browser, only their hashes stored; idle and absolute expiry."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from smecluster.accounts.models import Account, LoginSession
from smecluster.accounts.settings import cached_settings, security_settings
from smecluster.workflow.audit import utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def session_digest(token: str) -> str:
    """The stored form (SHA-256) of a session or one-time token, naming what to keep, end or redeem."""
    return _digest(token)


def start_session(session: Session, account: Account) -> tuple[str, str]:
    """Open a session for an account; returns (token for the cookie, CSRF token for forms)."""
    settings = security_settings(session)
    now = utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=_digest(token),
            account_id=account.id,
            csrf_token=csrf,
            created_at=now,
            last_seen=now,
            expires_at=now + timedelta(hours=settings["session_max_hours"]),
        )
    )
    return token, csrf


def resolve_session(session: Session, token: str | None, clock_now=None) -> tuple[Account, LoginSession] | None:
    """The account and session behind a token, or None when unknown, expired, idle too long or disabled."""
    if not token:
        return None
    row = session.get(LoginSession, _digest(token))
    if row is None:
        return None
    now = clock_now or utcnow()
    idle = timedelta(minutes=security_settings(session)["session_idle_minutes"])
    account = session.get(Account, row.account_id)
    if now >= row.expires_at or now - row.last_seen > idle or account is None or not account.active:
        session.delete(row)
        return None
    if now - row.last_seen > timedelta(seconds=60):  # write at most once a minute per session
        row.last_seen = now
    return account, row


@dataclass(frozen=True)
class SessionView:
    """The fields a request needs of its session and account (plain values, no ORM object)."""

    account_id: int
    username: str
    display_name: str
    role: str
    region_code: str | None
    uscc: str | None
    must_change_password: bool
    csrf_token: str


def lookup_session(engine: Engine, token: str | None, now: datetime | None = None) -> SessionView | None:
    """One joined query per request: the live session behind a token, or None (expired ones are deleted)."""
    if not token:
        return None
    digest = _digest(token)
    with engine.connect() as c:
        row = c.execute(
            select(
                LoginSession.csrf_token,
                LoginSession.last_seen,
                LoginSession.expires_at,
                Account.id,
                Account.username,
                Account.display_name,
                Account.role,
                Account.region_code,
                Account.uscc,
                Account.must_change_password,
                Account.active,
            )
            .join(Account, Account.id == LoginSession.account_id)
            .where(LoginSession.token_hash == digest)
        ).first()
    if row is None:
        return None
    now = now or utcnow()
    idle = timedelta(minutes=cached_settings(engine)["session_idle_minutes"])
    if now >= row.expires_at or now - row.last_seen > idle or not row.active:
        with engine.begin() as c:
            c.execute(delete(LoginSession).where(LoginSession.token_hash == digest))
        return None
    if now - row.last_seen > timedelta(seconds=60):  # write at most once a minute per session
        with engine.begin() as c:
            c.execute(update(LoginSession).where(LoginSession.token_hash == digest).values(last_seen=now))
    return SessionView(
        row.id,
        row.username,
        row.display_name,
        row.role,
        row.region_code,
        row.uscc,
        bool(row.must_change_password),
        row.csrf_token,
    )


def end_session(session: Session, token: str | None) -> None:
    """Log out: forget the session."""
    if token:
        session.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))
