"""Every (method, path) the app answers, including routers included into it and static mounts."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Mount


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """Sorted (method, path) pairs of every route; HEAD is left out (it follows GET)."""
    out: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, Mount):
            out.add(("GET", route.path + "/{path}"))
            continue
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for ctx in contexts:
            for method in getattr(ctx, "methods", None) or ():
                if method != "HEAD":
                    out.add((method, ctx.path))
    return sorted(out)
