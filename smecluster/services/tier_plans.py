"""The compiled tier plan in force, and the names of the province-wide tier tables kept beside a snapshot.

Light on purpose (the policy packs and the standard library, no Polars, DuckDB or SQLAlchemy): a
diagnosis answered from the kept tables needs only these and PyArrow's Parquet reader.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from smecluster.analytics.tier_query import QueryPlan, compile_tiers
from smecluster.policy.pack import Pack
from smecluster.policy.tiers import tier_label, tier_packs, tiers

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from smecluster.analytics.stored_snapshot import StoredSnapshot

KEYS = ("uscc", "name", "county_code", "industry_code")

_PLANS: dict[tuple, tuple[list, QueryPlan]] = {}


def default_on(year: int, today: date | None = None) -> date:
    """The evaluation date for data year Y: today, but no later than the end of Y+1."""
    today = today or date.today()
    return min(today, date(year + 1, 12, 31))


def latest_year(engine: Engine) -> int | None:
    """The newest data year in the registry."""
    from sqlalchemy import func, select

    from smecluster.registry.models import EnterpriseYear

    with engine.connect() as conn:
        return conn.execute(select(func.max(EnterpriseYear.year))).scalar()


def pack_reason(pack: Pack, lang: str = "en") -> str:
    """Why a selected pack was applied (date rule and kind of evaluation), for tables and pages."""
    if pack.selection is None:
        return ""
    return pack.selection.reason_zh() if lang == "zh" else pack.selection.reason_en()


def tier_labels() -> dict[str, dict]:
    """Tier kind -> labels and rank, for display."""
    return {t.kind: {"zh": t.label_zh, "en": t.label_en, "rank": t.rank} for t in tiers()}


def tier_names_on(on: date, lang: str = "zh") -> dict[str, str]:
    """Tier kind -> its name under the pack applied on a date (科技和创新型中小企业 from 2026-04-01)."""
    return {p.tier or p.id: tier_label(p, lang) for p in tier_packs(on)}


def plan_for(on: date, tier: str | None, keys: tuple[str, ...] = KEYS, evaluation: str = "new") -> QueryPlan:
    """The compiled plan of the packs in force, reused while the same pack objects are (a diagnosis
    costs less than compiling every pack; packs reloaded from disk are new objects, compiled anew)."""
    packs = tier_packs(on, tier, evaluation)
    key = (tuple(id(p) for p in packs), keys)
    found = _PLANS.get(key)
    if found is None:
        if len(_PLANS) >= 64:
            _PLANS.clear()
        found = _PLANS[key] = (packs, compile_tiers(packs, keys=keys))  # the packs kept: their ids stay theirs
    return found[1]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def facts_name(year: int, on: date) -> str:
    """The name of the province's fact table kept beside a snapshot."""
    return f"facts-{year}-{on.isoformat()}"


def tiers_name(plan: QueryPlan, year: int, on: date) -> str:
    """The name of the province's tier table (one row per firm, sorted by credit code) kept beside a
    snapshot; the compiled SQL's digest is in it, so an edited pack never reads an old table."""
    return f"tiers-{year}-{on.isoformat()}-{_digest(plan.sql)}"


def values_name(plan: QueryPlan, year: int, on: date) -> str:
    """The name of the province's indicator values (what a diagnosis shows per criterion) kept beside a snapshot."""
    return f"values-{year}-{on.isoformat()}-{_digest(plan.indicator_sql)}"


def held_dates_name() -> str:
    """The name of the dates kept beside a snapshot on which one of its designations starts or stops
    counting (the digest of the rule, validity periods included, in it)."""
    from smecluster.policy.validity import held_sql

    return f"held-dates-{_digest(held_sql('D'))}"


_HELD_DATES: dict[str, tuple[str, ...]] = {}


def _held_dates(path: str) -> tuple[str, ...] | None:
    """The kept dates at `path` (read once per process: a snapshot's files never change; a missing file
    is looked for again next time, another process may keep it meanwhile)."""
    found = _HELD_DATES.get(path)
    if found is None:
        try:
            found = tuple(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None
        if len(_HELD_DATES) >= 16:
            _HELD_DATES.clear()
        _HELD_DATES[path] = found
    return found


def facts_date(snapshot: StoredSnapshot, on: date) -> date | None:
    """The first day of the period around `on` in which every designation of the snapshot counts or not
    exactly as on `on` (or None when the snapshot keeps no such dates yet).

    A firm's facts read the evaluation date only through which designations count on it
    (`policy.validity.held_sql`), so province results kept for any day of that period are those of
    `on`: they are named by this date, not by the day they were computed. A new day reuses them until
    a designation starts or ends (the compiled SQL's digest in the names covers a pack coming into force).
    """
    dates = _held_dates(str(snapshot.path / f"{held_dates_name()}.json"))
    if dates is None:
        return None
    i = bisect.bisect_right(dates, on.isoformat())
    return date.fromisoformat(dates[i - 1]) if i else date.min
