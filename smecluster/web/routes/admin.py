"""The three administrators (三员分立): accounts (system), security settings (security), audit (audit)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from smecluster.accounts.models import Account
from smecluster.accounts.roles import roles
from smecluster.accounts.settings import DEFAULTS, change_setting, forget_cached_settings, security_settings
from smecluster.accounts.users import AccountError, add_user, disable_user, reset_password
from smecluster.db import session_scope
from smecluster.web.i18n import localize
from smecluster.web.security import Viewer, allow, check_csrf
from smecluster.web.templating import render
from smecluster.workflow import audit
from smecluster.workflow.models import AuditEntry

router = APIRouter(prefix="/admin")


def _users_page(request: Request, status: int = 200, **extra):
    with session_scope(request.app.state.engine) as s:
        users = list(s.scalars(select(Account).order_by(Account.username)))
    return render(request, "admin/users.html", {"users": users, "roles": roles(), **extra}, status)


@router.get("/users", response_class=HTMLResponse, name="admin_users")
def admin_users(request: Request, who: Viewer = Depends(allow("system_admin"))):
    """Every account, and the form to add one."""
    return _users_page(request)


@router.post("/users", response_class=HTMLResponse, name="admin_user_add", dependencies=[Depends(check_csrf)])
def admin_user_add(
    request: Request,
    username: str = Form(..., max_length=64),
    role: str = Form(..., max_length=32),
    region_code: str = Form("", max_length=6),
    uscc: str = Form("", max_length=18),
    display_name: str = Form("", max_length=128),
    password: str = Form(..., max_length=256),
    who: Viewer = Depends(allow("system_admin")),
):
    """Add an account (role, scope and password policy checked)."""
    try:
        with session_scope(request.app.state.engine) as s:
            add_user(
                s,
                username.strip(),
                password,
                role,
                region_code=region_code.strip() or None,
                uscc=uscc.strip() or None,
                display_name=display_name.strip(),
                actor=who.username,
            )
    except AccountError as exc:
        return _users_page(request, 400, error=localize(request.state.locale, exc))
    return RedirectResponse("/admin/users", status_code=303)


def _account_name(request: Request, account_id: int) -> str:
    with session_scope(request.app.state.engine) as s:
        account = s.get(Account, account_id)
        if account is None:
            raise HTTPException(status_code=404, detail="no such account")
        return account.username


@router.post("/users/{account_id}/disable", name="admin_user_disable", dependencies=[Depends(check_csrf)])
def admin_user_disable(request: Request, account_id: int, who: Viewer = Depends(allow("system_admin"))):
    """Disable an account."""
    name = _account_name(request, account_id)
    if account_id == who.id:
        return _users_page(request, 400, error="you cannot disable your own account")
    with session_scope(request.app.state.engine) as s:
        disable_user(s, name, actor=who.username)
    return RedirectResponse("/admin/users", status_code=303)


@router.post(
    "/users/{account_id}/reset",
    response_class=HTMLResponse,
    name="admin_user_reset",
    dependencies=[Depends(check_csrf)],
)
def admin_user_reset(request: Request, account_id: int, who: Viewer = Depends(allow("system_admin"))):
    """Reset a password to a generated one (shown once) and unlock the account."""
    name = _account_name(request, account_id)
    with session_scope(request.app.state.engine) as s:
        new = reset_password(s, name, actor=who.username)
    return _users_page(request, reset_user=name, reset_password=new)


@router.get("/security", response_class=HTMLResponse, name="admin_security")
def admin_security(request: Request, who: Viewer = Depends(allow("security_admin"))):
    """Security settings in force."""
    with session_scope(request.app.state.engine) as s:
        current = security_settings(s)
    return render(request, "admin/security.html", {"settings": current, "defaults": DEFAULTS})


@router.post("/security", response_class=HTMLResponse, name="admin_security_change", dependencies=[Depends(check_csrf)])
def admin_security_change(
    request: Request,
    key: str = Form(..., max_length=64),
    value: str = Form(..., max_length=16),
    who: Viewer = Depends(allow("security_admin")),
):
    """Change one security setting (range checked)."""
    try:
        with session_scope(request.app.state.engine) as s:
            stored = change_setting(s, key, value)
            audit.record(s, who.username, "security.setting", key, {"value": stored})
            current = security_settings(s)
    except ValueError as exc:
        with session_scope(request.app.state.engine) as s:
            current = security_settings(s)
        return render(
            request,
            "admin/security.html",
            {"settings": current, "defaults": DEFAULTS, "error": localize(request.state.locale, exc)},
            400,
        )
    forget_cached_settings()
    return render(request, "admin/security.html", {"settings": current, "defaults": DEFAULTS, "done": key})


@router.get("/audit", response_class=HTMLResponse, name="admin_audit")
def admin_audit(request: Request, who: Viewer = Depends(allow("audit_admin"))):
    """The newest audit entries and the result of verifying the whole chain."""
    engine = request.app.state.engine
    check = audit.verify(engine)
    with session_scope(engine) as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)))
        audit.record(s, who.username, "audit.read", "audit_entry", {"entries": check.entries})
    return render(request, "admin/audit.html", {"entries": entries, "check": check})
