"""Request guards at the door: a body size limit (413) and NUL characters in text (400).

`RequestLimits` is a plain ASGI middleware. A body larger than its limit is refused before it is
read when Content-Length says so, and by a running count for a chunked body: a 100 MB JSON body
costs the server nothing. Multipart bodies (the forms that carry files) have their own, larger
limit. Text bodies (JSON, urlencoded forms) are read in chunks and searched for NUL chunk by chunk,
so the check is linear in the body's size.

`refuse_control_characters` is an app-wide dependency: it checks every decoded query parameter and
form field (multipart too; file contents excepted) with the product's one control-character rule
(smecluster/safe_text.py). JSON bodies are checked by their models (`Text` fields).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Request
from pydantic import AfterValidator
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smecluster.safe_text import control_character

NUL_FORMS = (b"\x00", b"%00", b"\\u0000")
TEXT_TYPES = (b"application/x-www-form-urlencoded", b"application/json")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_OVERLAP = max(len(f) for f in NUL_FORMS) - 1


def _has_nul(data: bytes) -> bool:
    lowered = data.lower()
    return any(form in lowered for form in NUL_FORMS)


class _TooLarge(Exception):
    """The body grew past the limit while the application was reading it."""


class RequestLimits:
    """Refuses oversized bodies with 413 and text bodies or query strings holding NUL with 400."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope.get("query_string", b"")) or _has_nul(scope.get("path", "").encode("utf-8", "replace")):
            await _refuse(send, 400, "NUL characters are not allowed in text fields / 文本中不允许出现空字符")
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").lower()
        limit = self.max_upload if content_type.startswith(b"multipart/form-data") else self.max_body
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await _refuse(send, 400, "bad Content-Length")
                return
            if too_big:
                await _refuse_too_large(send, limit)
                return
        if content_type.startswith(TEXT_TYPES):
            await self._text_body(scope, receive, send, limit)
            return
        await self._counted(scope, receive, send, limit)

    async def _text_body(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Read a text body (at most `limit` bytes), looking for NUL in each chunk and across chunk edges."""
        messages: list[Message] = []
        size, tail = 0, b""
        while True:
            message = await receive()
            messages.append(message)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse_too_large(send, limit)
                return
            if _has_nul(tail + chunk):
                await _refuse(send, 400, "NUL characters are not allowed in text fields / 文本中不允许出现空字符")
                return
            tail = (tail + chunk)[-_OVERLAP:]
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the body through while counting it; past the limit, answer 413 instead of the app."""
        size = 0
        state = {"over": False, "started": False}

        async def counting() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > limit:
                state["over"] = True
                raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            if state["over"]:
                return  # the application's answer to a cut-off body is replaced by the 413
            state["started"] = state["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, guarded_send)
        except _TooLarge:
            pass
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await _refuse_too_large(send, limit)


async def _refuse(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse_too_large(send: Send, limit: int) -> None:
    mb = limit / (1024 * 1024)
    await _refuse(send, 413, f"request body larger than {mb:.1f} MB / 请求内容超过 {mb:.1f} MB")


def _control_error(where: str, code: str) -> HTTPException:
    return HTTPException(
        status_code=400,
        detail=f"control character {code} not allowed in {where} / {where} 中不允许出现控制字符 {code}",
    )


async def refuse_control_characters(request: Request) -> None:
    """400 when a query parameter or a form field (not a file's content) holds a control character."""
    for key, value in request.query_params.multi_items():
        if code := control_character(key) or control_character(value):
            raise _control_error(key, code)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not request.headers.get("content-type", "").lower().startswith(FORM_TYPES):
        return
    form = await request.form()
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if code := control_character(value.filename):
                raise _control_error(key, code)
            continue
        if code := control_character(key) or control_character(value):
            raise _control_error(key, code)


def no_control_characters(value: str) -> str:
    """A pydantic validator: the text unchanged, or a ValueError naming the control character."""
    if code := control_character(value):
        raise ValueError(f"control character {code} not allowed")
    return value


Text = Annotated[str, AfterValidator(no_control_characters)]
