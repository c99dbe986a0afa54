"""Account services: add, disable, reset, and log in with lockout. Used by the CLI and the web."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smecluster.accounts.models import Account, LoginSession
from smecluster.accounts.passwords import check_policy, hash_password, verify_password
from smecluster.accounts.roles import check_role_scope
from smecluster.accounts.settings import security_settings
from smecluster.messages import N_, UserError
from smecluster.registry.models import Region
from smecluster.workflow import audit


class AccountError(UserError):
    """An account operation that cannot be done, with the reason."""


def find_user(session: Session, username: str) -> Account:
    """An account by user name, or AccountError."""
    user = session.scalars(select(Account).where(Account.username == username)).first()
    if user is None:
        raise AccountError(N_("no account named %(username)s"), username=username)
    return user


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    region_code: str | None = None,
    uscc: str | None = None,
    display_name: str = "",
    actor: str = "cli",
) -> Account:
    """Create an account after checking role, scope and password policy."""
    try:
        check_role_scope(role, region_code, uscc)
        check_policy(password, username, security_settings(session)["password_min_length"])
    except ValueError as exc:
        raise AccountError.carry(exc) from None
    if region_code and session.get(Region, region_code) is None:
        raise AccountError(N_("unknown region code %(region_code)s"), region_code=region_code)
    if session.scalars(select(Account.id).where(Account.username == username)).first() is not None:
        raise AccountError(N_("an account named %(username)s exists already"), username=username)
    user = Account(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        region_code=region_code,
        uscc=uscc,
        active=True,
        failed_logins=0,
        must_change_password=False,
        created_at=audit.utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.add", f"account:{username}", {"role": role, "region": region_code})
    return user


def disable_user(session: Session, username: str, actor: str = "cli") -> Account:
    """Disable an account (it can no longer log in; its history stays)."""
    user = find_user(session, username)
    user.active = False
    audit.record(session, actor, "user.disable", f"account:{username}")
    return user


def reset_password(session: Session, username: str, password: str | None = None, actor: str = "cli") -> str:
    """Set a new password (generated when none is given), unlock, and ask for a change at next login."""
    user = find_user(session, username)
    new = password or secrets.token_urlsafe(12) + "A1!"
    try:
        check_policy(new, username, security_settings(session)["password_min_length"])
    except ValueError as exc:
        raise AccountError.carry(exc) from None
    user.password_hash = hash_password(new)
    user.failed_logins = 0
    user.locked_until = None
    user.must_change_password = password is None
    # whoever held the old password is logged out everywhere
    session.execute(delete(LoginSession).where(LoginSession.account_id == user.id))
    audit.record(session, actor, "user.reset", f"account:{username}")
    return new


def change_password(session: Session, user: Account, old: str, new: str) -> None:
    """A user's own password change: the old password first, then the policy."""
    if not verify_password(user.password_hash, old):
        raise AccountError(N_("the current password is wrong"))
    try:
        check_policy(new, user.username, security_settings(session)["password_min_length"])
    except ValueError as exc:
        raise AccountError.carry(exc) from None
    user.password_hash = hash_password(new)
    user.must_change_password = False
    audit.record(session, user.username, "user.password", f"account:{user.username}")


@dataclass
class LoginResult:
    """The outcome of a login attempt: the account on success, else a reason."""

    account: Account | None
    reason: str = ""


def authenticate(session: Session, username: str, password: str) -> LoginResult:
    """Check a password; count failures and lock the account after the configured number in a row."""
    settings = security_settings(session)
    now = audit.utcnow()
    user = session.scalars(select(Account).where(Account.username == username)).first()
    if user is None:
        verify_password(None, password)  # same work as for a real account
        audit.record(session, username[:64], "login.fail", "", {"reason": "unknown user"})
        return LoginResult(None, "bad_credentials")
    if not user.active:
        audit.record(session, username, "login.fail", f"account:{username}", {"reason": "disabled"})
        return LoginResult(None, "bad_credentials")
    if user.locked_until and user.locked_until > now:
        audit.record(session, username, "login.fail", f"account:{username}", {"reason": "locked"})
        return LoginResult(None, "locked")
    if not verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        locked = user.failed_logins >= settings["lockout_threshold"]
        if locked:
            user.locked_until = now + timedelta(minutes=settings["lockout_minutes"])
            user.failed_logins = 0
        audit.record(
            session,
            username,
            "login.fail",
            f"account:{username}",
            {"reason": "bad password", "locked": locked},
        )
        return LoginResult(None, "locked" if locked else "bad_credentials")
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, username, "login.ok", f"account:{username}")
    return LoginResult(user)
