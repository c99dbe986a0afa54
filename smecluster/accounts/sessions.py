"""Login sessions: random tokens held by the browser, only their hashes stored; idle and absolute expiry."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from smecluster.accounts.models import Account, LoginSession
from smecluster.accounts.settings import security_settings
from smecluster.workflow.audit import utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


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


def resolve_session(
    session: Session, token: str | None, clock_now=None
) -> tuple[Account, LoginSession] | None:
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


def end_session(session: Session, token: str | None) -> None:
    """Log out: forget the session."""
    if token:
        session.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))
