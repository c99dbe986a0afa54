"""Log in, log out, change one's password, set a password with a one-time token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from smecluster.accounts.models import Account
from smecluster.accounts.sessions import end_session, session_digest, start_session
from smecluster.accounts.users import AccountError, authenticate, change_password, redeem_token
from smecluster.db import session_scope
from smecluster.web.i18n import localize, translations
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
# Field limits checked in the route (not by FastAPI) so an over-long field re-renders the form.
MAX_NAME = 64
MAX_PASSWORD = 256
MAX_TOKEN = 128


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
    username: str = Form(...),
    password: str = Form(...),
    next: str = Form(""),
    who: Viewer = Depends(allow(PUBLIC)),
):
    """Check the password; lock the account after repeated failures; start a session.

    Every refusal (wrong password, unknown, disabled, locked) gets the same answer.
    """
    back = _safe_next(next[:2048]) or ""
    if len(username) > MAX_NAME or len(password) > MAX_PASSWORD:
        return render(request, "auth/login.html", {"error": "too_long", "next": back}, 400)
    with session_scope(request.app.state.engine) as s:
        result = authenticate(s, username, password)
        if result.account is not None:
            token, _csrf = start_session(s, result.account)
            role = result.account.role
            must_change = result.account.must_change_password
    if result.account is None:
        return render(request, "auth/login.html", {"error": "bad", "next": back}, 401)
    target = "/account/password" if must_change else back or HOME_BY_ROLE.get(role, "/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, **cookie_kwargs(request))
    return response


@router.post("/logout", name="logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, who: Viewer = Depends(allow(ANY_USER, during_forced_change=True))):
    """End the session."""
    with session_scope(request.app.state.engine) as s:
        end_session(s, request.cookies.get(SESSION_COOKIE))
        audit.record(s, who.username, "logout", f"account:{who.username}")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", response_class=HTMLResponse, name="password_form")
def password_form(request: Request, who: Viewer = Depends(allow(ANY_USER, during_forced_change=True))):
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
    current: str = Form(...),
    new: str = Form(...),
    who: Viewer = Depends(allow(ANY_USER, during_forced_change=True)),
):
    """Change one's own password (the policy applies; not the same again); other sessions end."""
    if len(current) > MAX_PASSWORD or len(new) > MAX_PASSWORD:
        return render(request, "auth/password.html", {"error": _too_long(request)}, 400)
    token = request.cookies.get(SESSION_COOKIE)
    try:
        with session_scope(request.app.state.engine) as s:
            change_password(s, s.get(Account, who.id), current, new, keep_session=session_digest(token or ""))
    except AccountError as exc:
        return render(request, "auth/password.html", {"error": localize(request.state.locale, exc)}, 400)
    request.state.user.must_change_password = False  # this page's banner
    return render(request, "auth/password.html", {"done": True})


@router.get("/account/token", response_class=HTMLResponse, name="token_form")
def token_form(request: Request, who: Viewer = Depends(allow(PUBLIC, during_forced_change=True))):
    """The form where an account's owner sets a password with the one-time token from the administrator."""
    return render(request, "auth/token.html")


@router.post("/account/token", response_class=HTMLResponse, name="token_redeem", dependencies=[Depends(check_csrf)])
def token_redeem(
    request: Request,
    token: str = Form(...),
    new: str = Form(...),
    who: Viewer = Depends(allow(PUBLIC, during_forced_change=True)),
):
    """Set the password with a one-time token (then log in with it)."""
    if len(token) > MAX_TOKEN or len(new) > MAX_PASSWORD:
        return render(request, "auth/token.html", {"error": _too_long(request)}, 400)
    try:
        with session_scope(request.app.state.engine) as s:
            account = redeem_token(s, token.strip(), new)
            name = account.username
    except AccountError as exc:
        return render(request, "auth/token.html", {"error": localize(request.state.locale, exc)}, 400)
    return render(request, "auth/token.html", {"done": name})


def _too_long(request: Request) -> str:
    return translations(request.state.locale).gettext("A field is too long.")
