"""The three administrators (三员分立): accounts (system), security settings (security), audit (audit)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from smecluster.accounts.models import Account
from smecluster.accounts.roles import roles
from smecluster.accounts.settings import DEFAULTS, change_setting, forget_cached_settings, security_settings
from smecluster.accounts.users import AccountError, create_account, disable_user, grant_role, issue_token
from smecluster.db import session_scope
from smecluster.web.i18n import localize, translations
from smecluster.web.security import Viewer, allow, check_csrf
from smecluster.web.templating import render
from smecluster.workflow import audit
from smecluster.workflow.models import AuditEntry

router = APIRouter(prefix="/admin")
MAX_NAME = 64
MAX_DISPLAY = 128


def _text(request: Request, message: str) -> str:
    return translations(request.state.locale).gettext(message)


def _users_page(request: Request, status: int = 200, **extra):
    with session_scope(request.app.state.engine) as s:
        users = list(s.scalars(select(Account).order_by(Account.username)))
    return render(request, "admin/users.html", {"users": users, "roles": roles(), **extra}, status)


@router.get("/users", response_class=HTMLResponse, name="admin_users")
def admin_users(request: Request, who: Viewer = Depends(allow("system_admin"))):
    """Every account, and the form to create one (without a role: the security administrator grants roles)."""
    return _users_page(request)


@router.post("/users", response_class=HTMLResponse, name="admin_user_add", dependencies=[Depends(check_csrf)])
def admin_user_add(
    request: Request,
    username: str = Form(...),
    display_name: str = Form(""),
    who: Viewer = Depends(allow("system_admin")),
):
    """Create an account without a role; the owner's one-time token to set a password is shown once."""
    if len(username) > MAX_NAME or len(display_name) > MAX_DISPLAY:
        return _users_page(request, 400, error=_text(request, "A field is too long."))
    try:
        with session_scope(request.app.state.engine) as s:
            token = create_account(s, username.strip(), display_name.strip(), actor=who.username)
    except AccountError as exc:
        return _users_page(request, 400, error=localize(request.state.locale, exc))
    return _users_page(request, token_user=username.strip(), token=token)


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
        return _users_page(request, 400, error=_text(request, "You cannot disable your own account."))
    try:
        with session_scope(request.app.state.engine) as s:
            disable_user(s, name, actor=who.username, allow_admin=False)
    except AccountError as exc:
        return _users_page(request, 403, error=localize(request.state.locale, exc))
    return RedirectResponse("/admin/users", status_code=303)


@router.post(
    "/users/{account_id}/reset",
    response_class=HTMLResponse,
    name="admin_user_reset",
    dependencies=[Depends(check_csrf)],
)
def admin_user_reset(request: Request, account_id: int, who: Viewer = Depends(allow("system_admin"))):
    """Reset: the old password stops working and the owner gets a one-time token (no password is shown).

    Administrator accounts are reset only from the command line.
    """
    name = _account_name(request, account_id)
    try:
        with session_scope(request.app.state.engine) as s:
            token = issue_token(s, name, actor=who.username)
    except AccountError as exc:
        return _users_page(request, 403, error=localize(request.state.locale, exc))
    return _users_page(request, token_user=name, token=token)


def _roles_page(request: Request, status: int = 200, **extra):
    with session_scope(request.app.state.engine) as s:
        users = list(s.scalars(select(Account).order_by(Account.username)))
    business = {k: r for k, r in roles().items() if r.kind == "business"}
    context = {"users": users, "roles": roles(), "grantable": business, **extra}
    return render(request, "admin/roles.html", context, status)


@router.get("/roles", response_class=HTMLResponse, name="admin_roles")
def admin_roles(request: Request, who: Viewer = Depends(allow("security_admin"))):
    """Every account's role and scope, and the form to grant a business role."""
    return _roles_page(request)


@router.post("/roles", response_class=HTMLResponse, name="admin_role_grant", dependencies=[Depends(check_csrf)])
def admin_role_grant(
    request: Request,
    username: str = Form(...),
    role: str = Form(...),
    region_code: str = Form(""),
    uscc: str = Form(""),
    who: Viewer = Depends(allow("security_admin")),
):
    """Grant a business role with its region or enterprise (administrator roles: command line only)."""
    if len(username) > MAX_NAME or len(role) > 32 or len(region_code) > 6 or len(uscc) > 18:
        return _roles_page(request, 400, error=_text(request, "A field is too long."))
    try:
        with session_scope(request.app.state.engine) as s:
            grant_role(
                s,
                username.strip(),
                role.strip(),
                region_code=region_code.strip() or None,
                uscc=uscc.strip() or None,
                actor=who.username,
            )
    except AccountError as exc:
        return _roles_page(request, 400, error=localize(request.state.locale, exc))
    return _roles_page(request, done=username.strip())


@router.get("/security", response_class=HTMLResponse, name="admin_security")
def admin_security(request: Request, who: Viewer = Depends(allow("security_admin"))):
    """Security settings in force."""
    with session_scope(request.app.state.engine) as s:
        current = security_settings(s)
    return render(request, "admin/security.html", {"settings": current, "defaults": DEFAULTS})


@router.post("/security", response_class=HTMLResponse, name="admin_security_change", dependencies=[Depends(check_csrf)])
def admin_security_change(
    request: Request,
    key: str = Form(...),
    value: str = Form(...),
    who: Viewer = Depends(allow("security_admin")),
):
    """Change one security setting (range checked)."""
    try:
        if len(key) > 64 or len(value) > 16:
            raise ValueError(_text(request, "A field is too long."))
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
