"""The web application: `create_app()` wires storage, verdicts, routes, static files and error pages."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import HTTPException as FastAPIHTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from smecluster.db import open_database
from smecluster.web.headers import SecurityHeaders
from smecluster.web.heavy import HeavyWork
from smecluster.web.insight import InsightCache
from smecluster.web.overview import OverviewCache
from smecluster.web.quality import QualityStore
from smecluster.web.security import LoginRequired, PasswordChangeRequired
from smecluster.web.templating import render
from smecluster.web.text_guard import RequestLimits, refuse_control_characters
from smecluster.web.verdicts import Evaluate, VerdictStore, keep_diagnoses

STATIC_DIR = Path(__file__).with_name("static")


@dataclass
class WebSettings:
    """Settings of one app instance."""

    secure_cookies: bool = True
    evidence_dir: Path = field(default_factory=lambda: Path("evidence"))
    max_upload_bytes: int = 10 * 1024 * 1024  # one evidence file
    max_body_bytes: int = 1024 * 1024  # any request body without files (JSON, plain forms)
    upload_overhead_bytes: int = 1024 * 1024  # a multipart body: the file plus its form fields
    today: Callable[[], date] = date.today
    warm_up: bool = False  # compute aggregates and verdicts in a thread at start (serve does)
    national_parquet: Path | None = None  # a Parquet registry the national view counts from (else the database)


def create_app(
    database_url: str | None = None, *, evaluate: Evaluate | None = None, settings: WebSettings | None = None
) -> FastAPI:
    """The FastAPI app over one database (migrated to head on start)."""
    from smecluster.web.routes import ROUTERS

    settings = settings or WebSettings(
        secure_cookies=os.environ.get("SMECLUSTER_COOKIE_SECURE", "1") != "0",
        evidence_dir=Path(os.environ.get("SMECLUSTER_EVIDENCE_DIR", "evidence")),
        warm_up=os.environ.get("SMECLUSTER_WARM_UP", "0") == "1",
        national_parquet=Path(os.environ["SMECLUSTER_NATIONAL_PARQUET"])
        if os.environ.get("SMECLUSTER_NATIONAL_PARQUET") else None,
    )
    app = FastAPI(
        title="smecluster",
        description="SME characteristic industrial clusters (中小企业特色产业集群): verdicts, workflow.",
        version="0.1.0",
        # Swagger UI and ReDoc load their scripts from a CDN: not offline, and blocked by our CSP.
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(refuse_control_characters)],
    )
    app.state.engine = open_database(database_url)
    app.state.settings = settings
    app.state.verdicts = VerdictStore(app.state.engine, evaluate)
    app.state.overview = OverviewCache(app.state.engine, app.state.verdicts)
    app.state.insight = InsightCache(app.state.engine)  # targets and discovery, computed on first use
    from smecluster.web.priority_view import PriorityCache

    app.state.priority = PriorityCache(app.state.engine)  # rankings and recommendations, on first use
    from smecluster.web.watch_view import WatchCache

    app.state.watch = WatchCache(app.state.engine, settings.today)  # the re-review watch, on first use
    from smecluster.web.national_view import NationalCache

    app.state.national = NationalCache(app.state.engine, settings.national_parquet)  # the ministry's view
    app.state.heavy = HeavyWork()  # a few heavy computations at a time, 503 beyond
    app.state.quality = QualityStore(app.state.engine)  # data-quality findings, per registry version
    if settings.warm_up:
        # the registry counts (database) and the verdicts (snapshot) side by side, then the tables a
        # diagnosis page reads by key
        threading.Thread(target=app.state.overview.warm, name="overview-warm-up", daemon=True).start()
        app.state.verdicts.warm_in_background(after=lambda: keep_diagnoses(app.state.engine))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)

    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes + settings.upload_overhead_bytes,
    )
    app.add_middleware(SecurityHeaders, secure_cookies=settings.secure_cookies)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired):
        if _wants_json(request):
            return JSONResponse({"detail": "login required"}, status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def _password_change_required(request: Request, _exc: PasswordChangeRequired):
        if _wants_json(request):
            return JSONResponse({"detail": "password change required"}, status_code=403)
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError):
        # name the fields and reasons, never echo the input back (it may be huge or hostile)
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "reason": e.get("msg", "")}
            for e in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422)
        detail = "; ".join(f"{p['field']}: {p['reason']}" for p in problems)
        return render(request, "error.html", {"status": 422, "detail": detail}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        response = render(
            request, "error.html", {"status": exc.status_code, "detail": exc.detail}, exc.status_code
        )
        response.headers.update(exc.headers or {})  # e.g. Retry-After of a 503
        return response

    app.add_exception_handler(FastAPIHTTPException, _http_error)
    return app


def app_from_env() -> FastAPI:
    """The app for `uvicorn --factory` (several worker processes): database from SMECLUSTER_DATABASE_URL."""
    return create_app(os.environ.get("SMECLUSTER_DATABASE_URL"))


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")
