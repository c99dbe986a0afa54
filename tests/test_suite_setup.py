"""The test suite's own machinery that a test run depends on for its time (decision 2306)."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient


def test_web_clients_share_one_event_loop():
    """Requests of web clients used outside a `with` block run on the worker's one event loop
    (conftest's `_one_event_loop_for_web_clients`), not on a loop started for each request."""
    loops = []  # the loops themselves, kept alive, so that a new loop cannot reuse an old one's address

    async def where(request):
        loops.append(asyncio.get_running_loop())
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", where)])
    first, second = TestClient(app), TestClient(app)
    assert first.get("/").text == second.get("/").text == first.get("/").text == "ok"
    assert loops[0] is loops[1] is loops[2]
