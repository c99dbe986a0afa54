"""Log in, log out, change one's password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from smecluster.accounts.models import Account
from smecluster.accounts.sessions import end_session, start_session
from smecluster.accounts.users import AccountError, authenticate, change_password
from smecluster.db import session_scope
from smecluster.web.i18n import localize
from smecluster.web.security import ANY_USER, PUBLIC, SESSION_COOKIE, Viewer, allow, check_csrf, cookie_kwargs
from smecluster.web.templating import render
from smecluster.workflow import audit

router = APIRouter()

HOME_BY_ROLE = {
    "province_admin": "/overview",
    "city_reviewer": "/applications",
    "county_applicant": "/applications",
    "expert": "/applications",
    "enterprise_user": "/enterprise",
    "system_admin": "/admin/users",
    "security_admin": "/admin/security",
    "audit_admin": "/admin/audit",
}


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/login", response_class=HTMLResponse, name="login_form")
def login_form(request: Request, next: str | None = None, who: Viewer = Depends(allow(PUBLIC))):
    """The login form."""
    return render(request, "auth/login.html", {"next": _safe_next(next) or ""})


@router.post("/login", name="login", dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=256),
    next: str = Form(""),
    who: Viewer = Depends(allow(PUBLIC)),
):
    """Check the password; lock the account after repeated failures; start a session."""
    with session_scope(request.app.state.engine) as s:
        result = authenticate(s, username, password)
        if result.account is not None:
            token, _csrf = start_session(s, result.account)
            role = result.account.role
            must_change = result.account.must_change_password
    if result.account is None:
        message = "locked" if result.reason == "locked" else "bad"
        return render(request, "auth/login.html", {"error": message, "next": _safe_next(next) or ""}, 401)
    target = "/account/password" if must_change else _safe_next(next) or HOME_BY_ROLE.get(role, "/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, **cookie_kwargs(request))
    return response


@router.post("/logout", name="logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, who: Viewer = Depends(allow(ANY_USER))):
    """End the session."""
    with session_scope(request.app.state.engine) as s:
        end_session(s, request.cookies.get(SESSION_COOKIE))
        audit.record(s, who.username, "logout", f"account:{who.username}")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", response_class=HTMLResponse, name="password_form")
def password_form(request: Request, who: Viewer = Depends(allow(ANY_USER))):
    """The password change form."""
    return render(request, "auth/password.html")


@router.post(
    "/account/password",
    response_class=HTMLResponse,
    name="password_change",
    dependencies=[Depends(check_csrf)],
)
def password_change(
    request: Request,
    current: str = Form(..., max_length=256),
    new: str = Form(..., max_length=256),
    who: Viewer = Depends(allow(ANY_USER)),
):
    """Change one's own password (the policy applies)."""
    try:
        with session_scope(request.app.state.engine) as s:
            change_password(s, s.get(Account, who.id), current, new)
    except AccountError as exc:
        return render(request, "auth/password.html", {"error": localize(request.state.locale, exc)}, 400)
    return render(request, "auth/password.html", {"done": True})
