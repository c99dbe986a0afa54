"""A plain ASGI middleware refusing NUL characters in query strings and text bodies (400).

PostgreSQL cannot store NUL in text, and no field of this product needs it; refusing it at the
door gives a clear 400 instead of a database error deep in a handler. File uploads (multipart)
pass untouched: binary content may hold NUL bytes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL_FORMS = (b"\x00", b"%00", b"\\u0000")
TEXT_TYPES = (b"application/x-www-form-urlencoded", b"application/json")


def _has_nul(data: bytes) -> bool:
    lowered = data.lower()
    return any(form in lowered for form in NUL_FORMS)


class RefuseNul:
    """Answers 400 to requests whose query string or text body contains a NUL character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope.get("query_string", b"")) or _has_nul(scope.get("path", "").encode("utf-8", "replace")):
            await _refuse(send)
            return
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").lower()
        if not content_type.startswith(TEXT_TYPES):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        if _has_nul(body):
            await _refuse(send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send) -> None:
    text = "NUL characters are not allowed in text fields / 文本中不允许出现空字符".encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(text)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": text})
