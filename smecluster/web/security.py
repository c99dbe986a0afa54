"""Who is asking: session cookie -> account, role checks, CSRF tokens and cookie flags."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

from fastapi import Depends, HTTPException, Request

from smecluster.accounts.sessions import SessionView, lookup_session
from smecluster.web.i18n import LOCALE_COOKIE, pick_locale

SESSION_COOKIE = "sid"
CSRF_COOKIE = "csrf"
PUBLIC = "public"
ANY_USER = "any"


class LoginRequired(Exception):
    """Raised for a page that needs a login when nobody is logged in (HTML: redirect to /login)."""


class PasswordChangeRequired(Exception):
    """Raised for any page but the password form while the account must change its password."""


class Viewer:
    """The account behind a request (None when anonymous) as plain values, detached from the session."""

    def __init__(self, found: SessionView | None = None) -> None:
        self.id = found.account_id if found else None
        self.username = found.username if found else None
        self.display_name = found.display_name if found else None
        self.role = found.role if found else None
        self.region_code = found.region_code if found else None
        self.uscc = found.uscc if found else None
        self.must_change_password = found.must_change_password if found else False

    @property
    def anonymous(self) -> bool:
        """Whether nobody is logged in."""
        return self.id is None


def cookie_kwargs(request: Request) -> dict:
    """Flags of every cookie we set: HttpOnly, SameSite=Lax, Secure unless the app turned it off."""
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": request.app.state.settings.secure_cookies,
        "path": "/",
    }


def viewer(request: Request) -> Viewer:
    """Resolve locale, account and CSRF token once per request and keep them on request.state."""
    if hasattr(request.state, "viewer"):
        return request.state.viewer
    request.state.locale = pick_locale(request.query_params.get("lang"), request.cookies.get(LOCALE_COOKIE))
    found = lookup_session(request.app.state.engine, request.cookies.get(SESSION_COOKIE))
    account_view = Viewer(found)
    csrf = found.csrf_token if found else None
    if csrf is None:
        csrf = request.cookies.get(CSRF_COOKIE)
        if not csrf:
            csrf = secrets.token_urlsafe(32)
            request.state.set_csrf_cookie = csrf
    request.state.csrf_token = csrf
    request.state.user = None if account_view.anonymous else account_view
    request.state.viewer = account_view
    return account_view


def allow(*roles: str, during_forced_change: bool = False) -> Callable[..., Viewer]:
    """A dependency admitting the given roles (or PUBLIC, or ANY_USER for every logged-in account).

    While a logged-in account must change its password, every route refuses it (the app sends it to
    the password form) unless the route is marked `during_forced_change` (password, logout, token).
    """
    allowed = set(roles)

    def _check(request: Request, who: Viewer = Depends(viewer)) -> Viewer:
        if who.must_change_password and not during_forced_change:
            raise PasswordChangeRequired()
        if PUBLIC in allowed:
            return who
        if who.anonymous:
            raise LoginRequired()
        if ANY_USER in allowed or who.role in allowed:
            return who
        raise HTTPException(status_code=403, detail="forbidden")

    _check.allowed_roles = frozenset(allowed)  # read by the route table in the docs
    return _check


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request whose form field or X-CSRF-Token header lacks the session's token."""
    viewer(request)
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        sent = form.get("csrf_token")
    expected = request.state.csrf_token
    if not sent or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong")
