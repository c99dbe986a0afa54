"""Account services: add, disable, tokens, roles, password changes, and log in with lockout.

三员分立 (decision 0800): administrator accounts are made only from the command line (`add_user`);
on the web the system administrator creates accounts without a role and hands the owner a one-time
token (`create_account`, `issue_token`), the security administrator grants business roles
(`grant_role`), and only the owner ever chooses a password (`redeem_token`). Used by the CLI and the web.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session

from smecluster.accounts.models import Account, AccountToken, LoginSession
from smecluster.accounts.passwords import check_policy, hash_password, verify_password
from smecluster.accounts.roles import check_role_scope, roles
from smecluster.accounts.sessions import session_digest
from smecluster.accounts.settings import security_settings
from smecluster.messages import N_, UserError
from smecluster.registry.models import Region
from smecluster.workflow import audit

NO_ROLE = ""  # an account the system administrator created and no one has granted a role yet
NO_PASSWORD = "!"  # not an argon2 hash: nothing verifies against it until the owner sets a password
TOKEN_HOURS = 72


class AccountError(UserError):
    """An account operation that cannot be done, with the reason."""


def find_user(session: Session, username: str) -> Account:
    """An account by user name, or AccountError."""
    user = session.scalars(select(Account).where(Account.username == username)).first()
    if user is None:
        raise AccountError(N_("no account named %(username)s"), username=username)
    return user


def is_admin_role(role: str | None) -> bool:
    """Whether a role is one of the three administrators (made and reset only from the command line)."""
    spec = roles().get(role or "")
    return spec is not None and spec.kind == "admin"


def _check_new_name(session: Session, username: str) -> None:
    if not username or len(username) > 64:
        raise AccountError(N_("a user name has 1 to 64 characters"))
    if session.scalars(select(Account.id).where(Account.username == username)).first() is not None:
        raise AccountError(N_("an account named %(username)s exists already"), username=username)


def _check_scope(session: Session, role: str, region_code: str | None, uscc: str | None) -> None:
    try:
        check_role_scope(role, region_code, uscc)
    except ValueError as exc:
        raise AccountError.carry(exc) from None
    if region_code and session.get(Region, region_code) is None:
        raise AccountError(N_("unknown region code %(region_code)s"), region_code=region_code)


def _check_password(session: Session, password: str, username: str) -> None:
    try:
        check_policy(password, username, security_settings(session)["password_min_length"])
    except ValueError as exc:
        raise AccountError.carry(exc) from None


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
    must_change_password: bool = False,
) -> Account:
    """Create an account with a role and password (the command line's bootstrap path, admin roles included)."""
    _check_scope(session, role, region_code, uscc)
    _check_password(session, password, username)
    _check_new_name(session, username)
    user = Account(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        region_code=region_code,
        uscc=uscc,
        active=True,
        failed_logins=0,
        must_change_password=must_change_password,
        created_at=audit.utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.add", f"account:{username}", {"role": role, "region": region_code})
    return user


def _new_token(session: Session, user: Account, purpose: str) -> str:
    """A fresh one-time token for the owner; earlier unused ones stop working."""
    now = audit.utcnow()
    session.execute(
        update(AccountToken)
        .where(AccountToken.account_id == user.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(24)
    session.add(
        AccountToken(
            token_hash=session_digest(token),
            account_id=user.id,
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(hours=TOKEN_HOURS),
        )
    )
    return token


def create_account(session: Session, username: str, display_name: str = "", actor: str = "cli") -> str:
    """Create an account without a role or password; returns the owner's one-time token to set a password."""
    _check_new_name(session, username)
    user = Account(
        username=username,
        display_name=display_name or username,
        password_hash=NO_PASSWORD,
        role=NO_ROLE,
        active=True,
        failed_logins=0,
        must_change_password=False,
        created_at=audit.utcnow(),
    )
    session.add(user)
    session.flush()
    token = _new_token(session, user, "activate")
    audit.record(session, actor, "user.create", f"account:{username}", {"role": None})
    return token


def grant_role(
    session: Session,
    username: str,
    role: str,
    *,
    region_code: str | None = None,
    uscc: str | None = None,
    actor: str = "cli",
    allow_admin: bool = False,
) -> Account:
    """Give an account a business role and its scope (the security administrator's job on the web).

    Administrator roles, and accounts holding one, change only from the command line (`allow_admin`).
    """
    user = find_user(session, username)
    if not allow_admin and (is_admin_role(role) or is_admin_role(user.role)):
        raise AccountError(N_("administrator roles are granted only from the command line"))
    _check_scope(session, role, region_code, uscc)
    old = {"role": user.role or None, "region": user.region_code, "uscc": user.uscc}
    user.role, user.region_code, user.uscc = role, region_code, uscc
    # sessions carry the old role's pages: end them
    session.execute(delete(LoginSession).where(LoginSession.account_id == user.id))
    new = {"role": role, "region": region_code, "uscc": uscc}
    audit.record(session, actor, "user.grant", f"account:{username}", {"old": old, **new})
    return user


def disable_user(session: Session, username: str, actor: str = "cli", *, allow_admin: bool = True) -> Account:
    """Disable an account (it can no longer log in; its history stays); its sessions end.

    The web passes `allow_admin=False`: a system administrator must not silence the auditor.
    """
    user = find_user(session, username)
    if not allow_admin and is_admin_role(user.role):
        raise AccountError(N_("administrator accounts are disabled only from the command line"))
    user.active = False
    session.execute(delete(LoginSession).where(LoginSession.account_id == user.id))
    audit.record(session, actor, "user.disable", f"account:{username}")
    return user


def issue_token(session: Session, username: str, actor: str = "cli", *, allow_admin: bool = False) -> str:
    """Reset: the old password stops working, sessions end, the owner gets a one-time token to choose a new one.

    The resetter never sees a password. An administrator account is reset only from the command line.
    """
    user = find_user(session, username)
    if not allow_admin and is_admin_role(user.role):
        raise AccountError(N_("administrator accounts are reset only from the command line"))
    user.password_hash = NO_PASSWORD
    user.failed_logins = 0
    user.locked_until = None
    user.must_change_password = False
    session.execute(delete(LoginSession).where(LoginSession.account_id == user.id))
    token = _new_token(session, user, "reset")
    audit.record(session, actor, "user.reset", f"account:{username}")
    return token


def reset_password(session: Session, username: str, password: str, actor: str = "cli") -> None:
    """Command line only: set a password the owner must change at the next login, unlock, end sessions."""
    user = find_user(session, username)
    _check_password(session, password, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.must_change_password = True
    session.execute(delete(LoginSession).where(LoginSession.account_id == user.id))
    audit.record(session, actor, "user.reset", f"account:{username}", {"must_change": True})


def redeem_token(session: Session, token: str, new_password: str) -> Account:
    """The owner sets a password with a one-time token (unused, not expired); the token is then spent."""
    now = audit.utcnow()
    row = session.get(AccountToken, session_digest(token or ""))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise AccountError(N_("this token is unknown, used or expired; ask the system administrator for a new one"))
    user = session.get(Account, row.account_id)
    if user is None or not user.active:
        raise AccountError(N_("this token is unknown, used or expired; ask the system administrator for a new one"))
    _check_password(session, new_password, user.username)
    spent = session.execute(
        update(AccountToken)
        .where(AccountToken.token_hash == row.token_hash, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # a concurrent request spent it first
        raise AccountError(N_("this token is unknown, used or expired; ask the system administrator for a new one"))
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.failed_logins = 0
    user.locked_until = None
    session.execute(delete(LoginSession).where(LoginSession.account_id == user.id))
    audit.record(session, user.username, "user.token", f"account:{user.username}", {"purpose": row.purpose})
    return user


def change_password(session: Session, user: Account, old: str, new: str, keep_session: str | None = None) -> None:
    """A user's own password change: the old password, a different new one, the policy; other sessions end.

    `keep_session` is the SHA-256 of the session making the change, which stays open.
    """
    if not verify_password(user.password_hash, old):
        raise AccountError(N_("the current password is wrong"))
    if verify_password(user.password_hash, new):
        raise AccountError(N_("the new password must differ from the current one"))
    _check_password(session, new, user.username)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    ended = delete(LoginSession).where(LoginSession.account_id == user.id)
    if keep_session:
        ended = ended.where(LoginSession.token_hash != keep_session)
    session.execute(ended)
    audit.record(session, user.username, "user.password", f"account:{user.username}")


def _holds_writes(session: Session) -> bool:
    """Whether the session's transaction has written (and so holds locks another connection would wait for)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return bool(conn.connection.dbapi_connection.in_transaction)
    if conn.dialect.name == "postgresql":
        return bool(conn.execute(text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")).scalar())
    return True


@dataclass
class LoginResult:
    """The outcome of a login attempt: the account on success, else a reason (for the audit trail only)."""

    account: Account | None
    reason: str = ""


BUSY_WAIT_SECONDS = 30.0  # how long an attempt waits for the slots of attempts still being checked (argon2 under load)


def authenticate(session: Session, username: str, password: str) -> LoginResult:
    """Check a password with an exact lockout, however many attempts arrive at once (decision 0803).

    Each attempt first takes a slot, committed at once: one UPDATE adds 1 to `failed_logins` while
    it is below the threshold and the account is not locked. So at most `lockout_threshold` passwords
    are ever being checked, or checked and wrong, before the lock. A wrong password that leaves the
    count at the threshold locks the account; a correct one clears count and lock. An attempt that
    finds every slot taken by attempts still being checked waits for them (concurrent correct logins
    all succeed) and is refused if the account is then locked. The password is checked outside any
    transaction (SQLite has one write lock). Unknown, disabled, locked and not yet activated accounts
    cost the same argon2 work and get the same answer as a wrong password. The caller's session is
    committed after the slot unless its transaction had written before (then the slot stays in that
    transaction, still atomic, and such an attempt does not wait).
    """
    settings = security_settings(session)
    threshold = settings["lockout_threshold"]
    had_writes = _holds_writes(session)
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while True:
        now = audit.utcnow()
        slot = (
            update(Account)
            .where(
                Account.username == username,
                Account.active.is_(True),
                or_(Account.locked_until.is_(None), Account.locked_until <= now),
                Account.failed_logins < threshold,
            )
            .values(failed_logins=Account.failed_logins + 1, locked_until=None)
            .returning(Account.id, Account.password_hash)
        )
        taken = session.execute(slot, execution_options={"synchronize_session": False}).first()
        if not had_writes:
            session.commit()  # the slot stands alone, and no lock is held while argon2 works
        if taken is not None or had_writes or not _open_to_attempts(session, username):
            break
        if time.monotonic() >= deadline:
            # slots held this long belong to a check that died: count them as failures (lock)
            _lock(session, username, threshold, settings["lockout_minutes"])
            break
        time.sleep(0.05)
    if taken is None:
        verify_password(None, password)  # same work as a real check
        user = session.scalars(select(Account).where(Account.username == username)).first()
        reason = "unknown user" if user is None else "disabled" if not user.active else "locked"
        target = "" if user is None else f"account:{username}"
        audit.record(session, username[:64], "login.fail", target, {"reason": reason})
        return LoginResult(None, reason)
    if not verify_password(taken.password_hash, password):
        locked = _lock(session, username, threshold, settings["lockout_minutes"])
        audit.record(
            session, username, "login.fail", f"account:{username}", {"reason": "bad password", "locked": locked}
        )
        return LoginResult(None, "bad password")
    session.execute(update(Account).where(Account.id == taken.id).values(failed_logins=0, locked_until=None))
    user = session.get(Account, taken.id)
    session.refresh(user)
    audit.record(session, username, "login.ok", f"account:{username}")
    return LoginResult(user)


def _open_to_attempts(session: Session, username: str) -> bool:
    """The account is open to attempts (active, not locked) though no slot was taken: every slot is held by
    attempts still being checked, or a correct login freed them since the slot was tried (then the next
    try takes one; answering "locked" there refused a right password: a race seen under pytest-xdist)."""
    now = audit.utcnow()
    row = session.execute(
        select(Account.id).where(
            Account.username == username,
            Account.active.is_(True),
            or_(Account.locked_until.is_(None), Account.locked_until <= now),
        )
    ).first()
    return row is not None


def _lock(session: Session, username: str, threshold: int, minutes: int) -> bool:
    """Lock the account if its count stands at the threshold (one UPDATE: concurrent callers lock once)."""
    now = audit.utcnow()
    locked = session.execute(
        update(Account)
        .where(Account.username == username, Account.failed_logins >= threshold)
        .values(failed_logins=0, locked_until=now + timedelta(minutes=minutes)),
        execution_options={"synchronize_session": False},
    )
    return locked.rowcount > 0
