"""A plain ASGI middleware: security headers on every response, and the anonymous CSRF cookie when new."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smecluster.web.security import CSRF_COOKIE

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"),
]


class SecurityHeaders:
    """Adds fixed security headers; sets the CSRF cookie that `viewer()` generated for a new visitor."""

    def __init__(self, app: ASGIApp, secure_cookies: bool = True) -> None:
        self.app = app
        self.secure = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                token = scope.get("state", {}).get("set_csrf_cookie")
                if token:
                    headers.append((b"set-cookie", self._cookie(token)))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # an unhandled error: answer 500 here, with the headers, before Starlette's bare error page
            if not started:
                body = b"Internal Server Error"
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")],
                    }
                )
                await send_with_headers({"type": "http.response.body", "body": body})
            raise

    def _cookie(self, token: str) -> bytes:
        cookie = SimpleCookie()
        cookie[CSRF_COOKIE] = token
        morsel = cookie[CSRF_COOKIE]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "lax"
        if self.secure:
            morsel["secure"] = True
        return morsel.OutputString().encode("latin-1")
