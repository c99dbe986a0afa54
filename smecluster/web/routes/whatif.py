"""What if: pick a pack, change thresholds, see the winners and losers; save named scenarios.

Every viewer sees the effect on their own region only (province: all; city, county: theirs). Running a
simulation writes nothing; saving a scenario (province only) is audited in the same transaction.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from smecluster.accounts.roles import region_prefix
from smecluster.db import session_scope
from smecluster.messages import N_, UserError
from smecluster.web.i18n import localize
from smecluster.web.page_cache import ComputedCache
from smecluster.web.routes.overview import OVERVIEW_ROLES, REGION, scoped_region
from smecluster.web.security import Viewer, allow, check_csrf
from smecluster.web.templating import render
from smecluster.workflow import audit

router = APIRouter()
SAVE_ROLES = ("province_admin",)
PACK = Query(None, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="A shipped cluster or tier pack id")
SETS = Query(None, max_length=100, description="Changes, repeatable: ID.threshold=0.25 (as `--set`)")
SET_RE = re.compile(r"^[A-Za-z0-9_.-]{1,60}=[^\x00-\x1f]{0,40}$")
MAX_SETS = 40


class ScenarioIn(BaseModel):
    """A scenario to save: a name, a shipped pack and its changes."""

    name: str = Field(..., min_length=1, max_length=80)
    pack: str = Field(..., pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    changes: list[str] = Field(..., min_length=1, max_length=MAX_SETS)


def _snapshots(request: Request) -> ComputedCache:
    """The registry snapshot the cluster simulations read, loaded once per app and kept 10 minutes
    (with the indicator tables the reforms of that time reuse)."""
    cache = getattr(request.app.state, "whatif_snapshots", None)
    if cache is None:
        from smecluster.analytics.snapshot import load_snapshot

        engine = request.app.state.engine
        cache = request.app.state.whatif_snapshots = ComputedCache(
            lambda _key: load_snapshot(engine, None, scope="clusters"), 600.0)
    return cache


def refuse(request: Request, status: int, error: Exception) -> HTTPException:
    """A refusal in the viewer's language: a UserError by its template, any other error (a reform the
    pack's checks reject, whose reason names criteria and words of the text) after a translated lead."""
    if not isinstance(error, UserError):
        error = UserError(N_("This change cannot be simulated: %(reason)s"), reason=str(error))
    return HTTPException(status_code=status, detail=localize(request.state.locale, error))


def _checked_sets(request: Request, sets: list[str]) -> list[str]:
    if len(sets) > MAX_SETS or not all(SET_RE.match(s) for s in sets):
        raise refuse(request, 400, UserError(N_("Changes are ID.FIELD=VALUE, at most %(n)s."), n=MAX_SETS))
    return sets


def _run(request: Request, pack: str, sets: list[str], prefix: str) -> dict[str, Any]:
    """The simulation, or an error the page shows (a bad reform, an empty registry)."""
    from smecluster.policy.pack import PackError
    from smecluster.policy.reform import ReformError
    from smecluster.services.simulate import run_scenario, simulatable_packs

    snapshot = None
    if any(p.id == pack and p.kind == "cluster_recognition" for p in simulatable_packs()):
        snapshot = _snapshots(request).get("all")
    try:
        return run_scenario(request.app.state.engine, pack, sets, prefix, snapshot=snapshot)
    except (ReformError, PackError, ValueError) as exc:
        raise refuse(request, 400, exc) from None


def _form_sets(request: Request, pack_id: str) -> list[str]:
    """`th_<ID>` fields of the form whose value differs from the pack's threshold, as `--set` strings."""
    from smecluster.services.simulate import editable_thresholds, simulatable_packs

    pack = next((p for p in simulatable_packs() if p.id == pack_id), None)
    if pack is None:
        return []
    out = []
    for c in editable_thresholds(pack):
        raw = request.query_params.get(f"th_{c['id']}")
        if raw is None or raw.strip() == "":
            continue
        try:
            value = float(raw)
        except ValueError:
            raise refuse(request, 400, UserError(N_("%(id)s: %(value)s is not a number."), id=c["id"],
                                                 value=repr(raw[:20]))) from None
        if value != float(c["threshold"]):
            out.append(f"{c['id']}.threshold={value!r}")
    return out


@router.get("/whatif", response_class=HTMLResponse, name="whatif_page")
def whatif_page(request: Request, pack: str | None = PACK, scenario: int | None = Query(None, ge=1, le=2**31 - 1),
                region: str | None = REGION, who: Viewer = Depends(allow(*OVERVIEW_ROLES))):
    """Pick a pack, change thresholds, run: winners and losers in the viewer's region; saved scenarios."""
    from smecluster.scenarios import get_scenario, list_scenarios
    from smecluster.services.simulate import editable_thresholds, simulatable_packs

    prefix = region_prefix(scoped_region(who, region))
    with session_scope(request.app.state.engine) as s:
        saved = [x.to_dict() for x in list_scenarios(s)]
        found = get_scenario(s, scenario) if scenario else None
        chosen = found.to_dict() if found is not None else None
    if scenario and chosen is None:
        raise refuse(request, 404, UserError(N_("No such scenario.")))
    packs = simulatable_packs()
    sets: list[str] = []
    form_error = None
    if chosen:
        pack, sets = chosen["pack"], chosen["changes"]
    elif pack:
        try:
            sets = _form_sets(request, pack)
        except HTTPException as exc:  # a threshold that is not a number: said on the page, beside the form
            sets, form_error = [], exc.detail
        else:
            form_error = None
    current = next((p for p in packs if p.id == pack), None)
    if pack and current is None:
        raise refuse(request, 404, UserError(N_("No such pack.")))
    result, error = None, form_error
    if current is not None and sets:
        try:
            result = _run(request, pack, sets, prefix)
        except HTTPException as exc:
            error = exc.detail
    changed = {x.split(".")[0]: x.split("=", 1)[1] for x in sets if ".threshold=" in x}
    return render(request, "whatif.html", {
        "packs": packs, "pack": current, "thresholds": editable_thresholds(current) if current else [],
        "changed": changed, "sets": sets, "result": result, "error": error, "saved": saved, "chosen": chosen,
        "prefix": prefix, "can_save": who.role in SAVE_ROLES,
        "chart_data": {"by_city": result["by_city_chart"], "by_county": result["by_county_map"]} if result else None,
    }, 400 if error else 200)


@router.post("/whatif/scenarios", name="whatif_save", dependencies=[Depends(check_csrf)])
def whatif_save(request: Request, name: str = Form(..., max_length=80), pack: str = Form(..., max_length=64),
                changes: str = Form(..., max_length=4000), who: Viewer = Depends(allow(*SAVE_ROLES))):
    """Save a named scenario (province only; audited)."""
    sets = _checked_sets(request, [x.strip() for x in changes.splitlines() if x.strip()])
    saved = _save(request, who, name, pack, sets)
    return RedirectResponse(f"/whatif?scenario={saved['id']}", status_code=303)


def _save(request: Request, who: Viewer, name: str, pack: str, sets: list[str]) -> dict:
    from smecluster.policy.pack import PackError
    from smecluster.policy.reform import ReformError
    from smecluster.scenarios import ScenarioError, save_scenario
    from smecluster.services.simulate import simulatable_packs

    if pack not in {p.id for p in simulatable_packs()}:
        raise refuse(request, 400, UserError(N_("Unknown pack %(pack)s."), pack=repr(pack)))
    try:
        with session_scope(request.app.state.engine) as s:
            row = save_scenario(s, name, pack, sets, who.id, audit.utcnow())
            audit.record(s, who.username, "scenario.save", f"scenario:{row.id}",
                         {"name": row.name, "pack": pack, "changes": sets})
            return row.to_dict()
    except (ScenarioError, ReformError, PackError) as exc:
        raise refuse(request, 400, exc) from None


@router.get("/api/whatif/simulate", name="api_whatif_simulate", tags=["api"])
def api_whatif_simulate(request: Request, pack: str = Query(..., pattern=r"^[a-z0-9][a-z0-9-]{0,63}$"),
                        set: list[str] | None = SETS, region: str | None = REGION,  # noqa: A002
                        who: Viewer = Depends(allow(*OVERVIEW_ROLES))) -> dict:
    """The page's simulation as JSON: `set` as the CLI's `--set` (repeatable), cut to the viewer's region."""
    prefix = region_prefix(scoped_region(who, region))
    sets = _checked_sets(request, set or [])
    if not sets:
        raise refuse(request, 400, UserError(N_("Give at least one set=ID.FIELD=VALUE.")))
    return _run(request, pack, sets, prefix)


@router.get("/api/whatif/scenarios", name="api_whatif_scenarios", tags=["api"])
def api_whatif_scenarios(request: Request, who: Viewer = Depends(allow(*OVERVIEW_ROLES))) -> list[dict]:
    """Saved scenarios, newest first."""
    from smecluster.scenarios import list_scenarios

    with session_scope(request.app.state.engine) as s:
        return [x.to_dict() for x in list_scenarios(s)]


@router.post("/api/whatif/scenarios", name="api_whatif_save", tags=["api"], dependencies=[Depends(check_csrf)])
def api_whatif_save(request: Request, body: ScenarioIn, who: Viewer = Depends(allow(*SAVE_ROLES))) -> dict:
    """Save a named scenario (province only; audited; the CSRF token in X-CSRF-Token)."""
    return _save(request, who, body.name, body.pack, _checked_sets(request, body.changes))
