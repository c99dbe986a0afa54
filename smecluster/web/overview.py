"""Overview figures by region, computed with GROUP BY once and kept in memory.

Registry counts (enterprises, tiers per county) are heavy on a 4,000,000-firm registry, so they are
cached for `REGISTRY_TTL` seconds; cluster counts are recomputed after a workflow change.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select

from smecluster.accounts.roles import region_prefix
from smecluster.analytics.stored_snapshot import StoredSnapshot
from smecluster.policy.pack import PackError, load_pack
from smecluster.registry.models import Cluster, Designation, Enterprise, Region
from smecluster.web.verdicts import VerdictStore
from smecluster.workflow.applications import AppRef
from smecluster.workflow.models import Application

Visible = Callable[[AppRef], bool]

REGISTRY_TTL = 600.0
COUNTED_KINDS = ("srdi_sme", "little_giant", "single_champion", "high_tech")
TARGET_PACK = "jiangsu-cluster-2023"


class OverviewCache:
    """Overview data per region code, built from cached aggregates."""

    def __init__(self, engine: Engine, verdicts: VerdictStore) -> None:
        self.engine = engine
        self.verdicts = verdicts
        self._lock = threading.Lock()
        self._registry: dict[str, dict[str, int]] | None = None
        self._registry_at = 0.0
        # (region, audience) -> data: viewers of one region with one audience see the same clusters
        self._by_scope: dict[tuple[str, str], tuple[dict, bytes]] = {}
        self.rendered: dict[tuple[str, str, str], str] = {}  # (region, audience, locale) -> page body

    def invalidate(self) -> None:
        """Forget the cluster figures (after a workflow change); registry counts keep their TTL."""
        with self._lock:
            self._by_scope = {}
            self.rendered = {}

    def get(self, region_code: str, audience: str, visible: Visible) -> tuple[dict[str, Any], bytes]:
        """(data, the same as JSON bytes) for a province, city or county, holding only the clusters
        `visible` admits; `audience` names the viewers who see the same (web/visibility.py)."""
        key = (region_code, audience)
        cached = self._by_scope.get(key)
        fresh = time.monotonic() - self._registry_at < REGISTRY_TTL
        if cached is not None and fresh and (cached[0]["verdicts_ready"] or not self.verdicts.ready):
            return cached
        with self._lock:
            stale = self._by_scope.get(key)
            if stale is not None and not stale[0]["verdicts_ready"] and self.verdicts.ready:
                self._by_scope.pop(key)  # verdicts arrived since: add the outcomes
                self.rendered = {k: v for k, v in self.rendered.items() if k[:2] != key}
            if time.monotonic() - self._registry_at >= REGISTRY_TTL or self._registry is None:
                self._registry = self._registry_counts()
                self._registry_at = time.monotonic()
                self._by_scope = {}
                self.rendered = {}
            if key not in self._by_scope:
                data = self._build(region_code, visible)
                self._by_scope[key] = (data, json.dumps(data, ensure_ascii=False).encode("utf-8"))
            return self._by_scope[key]

    def warm(self) -> None:
        """Compute the registry counts now (called from the start-up warm-up thread)."""
        with self._lock:
            if self._registry is None:
                self._registry = self._registry_counts()
                self._registry_at = time.monotonic()

    def _registry_counts(self) -> dict[str, dict[str, int]]:
        from smecluster.analytics.stored_snapshot import current_snapshot

        stored = current_snapshot(self.engine, refresh=False)
        if stored is not None:  # province-sized and current: the same counts from its columns
            return snapshot_counts(stored)
        counts: dict[str, dict[str, int]] = {}
        with self.engine.connect() as c:
            for code, n in c.execute(
                select(Enterprise.county_code, func.count()).group_by(Enterprise.county_code)
            ):
                counts.setdefault(code, {})["enterprises"] = n
            tiers = (
                select(Enterprise.county_code, Designation.kind, func.count(func.distinct(Designation.uscc)))
                .join(Enterprise, Enterprise.uscc == Designation.uscc)
                .where(Designation.kind.in_(COUNTED_KINDS))
                .group_by(Enterprise.county_code, Designation.kind)
            )
            for code, kind, n in c.execute(tiers):
                counts.setdefault(code, {})[kind] = n
        return counts

    def _build(self, region_code: str, visible: Visible) -> dict[str, Any]:
        prefix = region_prefix(region_code)
        with self.engine.connect() as c:
            regions = {
                r.code: r
                for r in c.execute(
                    select(Region.code, Region.name, Region.level).where(Region.code.like(f"{prefix}%"))
                )
            }
            # one row per cluster: a cluster applied for again is counted once, by its newest application
            newest = select(Application.cluster_id, func.max(Application.id).label("id")) \
                .group_by(Application.cluster_id).subquery()
            found = c.execute(
                select(Cluster.id, Cluster.name, Cluster.county_code, Cluster.status, Application.stage)
                .outerjoin(newest, newest.c.cluster_id == Cluster.id)
                .outerjoin(Application, Application.id == newest.c.id)
                .where(Cluster.county_code.like(f"{prefix}%"))
                .order_by(Cluster.county_code, Cluster.id)
            )
            # the same rule as the cluster page: a county's draft is not listed to the city or province
            clusters = [
                r for r in found if visible(AppRef(0, r.id, r.county_code, r.stage or r.status or "draft"))
            ]
        # While the verdicts are still being computed (minutes on a 4,000,000-firm registry) the
        # overview shows the counts without outcomes rather than keep every request waiting.
        ready = self.verdicts.ready or not self.verdicts.background
        outcomes = {int(v.cluster["id"]): v.outcome for v in self.verdicts.all()} if ready else {}
        counties: dict[str, dict[str, Any]] = {}
        for code, r in regions.items():
            if r.level == "county":
                reg = self._registry.get(code, {})
                counties[code] = {
                    "code": code,
                    "name": r.name,
                    "clusters": 0,
                    "recognised": 0,
                    "meeting": 0,
                    "enterprises": reg.get("enterprises", 0),
                    "srdi": reg.get("srdi_sme", 0),
                    "little_giants": reg.get("little_giant", 0),
                    "high_tech": reg.get("high_tech", 0),
                }
        rows = []
        for cl in clusters:
            row = counties.get(cl.county_code)
            outcome = outcomes.get(cl.id)
            if row is not None:
                row["clusters"] += 1
                row["recognised"] += cl.status == "recognised"
                row["meeting"] += outcome == "recognised"
            rows.append(
                {
                    "id": cl.id,
                    "name": cl.name,
                    "county_code": cl.county_code,
                    "county_name": counties.get(cl.county_code, {}).get("name", cl.county_code),
                    "stage": cl.status,
                    "outcome": outcome,
                }
            )
        by_stage: dict[str, int] = {}
        for r in rows:
            by_stage[r["stage"]] = by_stage.get(r["stage"], 0) + 1
        try:
            target = load_pack(TARGET_PACK).parameters.get("target_clusters")
        except PackError:
            target = None
        me = regions.get(region_code)
        recognised = by_stage.get("recognised", 0)
        table = sorted(counties.values(), key=lambda r: r["code"])
        return {
            "region": {
                "code": region_code,
                "name": me.name if me else region_code,
                "level": me.level if me else None,
            },
            "kpis": {
                "clusters": len(rows),
                "recognised": recognised,
                "meeting_conditions": sum(1 for r in rows if r["outcome"] == "recognised"),
                "enterprises": sum(r["enterprises"] for r in table),
                "srdi": sum(r["srdi"] for r in table),
                "little_giants": sum(r["little_giants"] for r in table),
                "target": target if me is not None and me.level == "province" else None,
            },
            "verdicts_ready": ready,
            "by_stage": by_stage,
            "counties": table,
            "clusters": rows,
        }


def snapshot_counts(stored: StoredSnapshot) -> dict[str, dict[str, int]]:
    """The registry counts of OverviewCache from a current snapshot's columns (firms per county, firms
    per county and designation kind), as the database's GROUP BY gives them."""
    counts: dict[str, dict[str, int]] = {}
    con = stored.connect()
    try:
        for code, n in con.sql("SELECT county_code, count(*) FROM enterprise GROUP BY county_code").fetchall():
            counts.setdefault(code, {})["enterprises"] = n
        kinds = ", ".join(f"'{k}'" for k in COUNTED_KINDS)
        for code, kind, n in con.sql(
            "SELECT e.county_code, d.kind, count(DISTINCT d.uscc) FROM designation d "
            f"JOIN enterprise e ON e.uscc = d.uscc WHERE d.kind IN ({kinds}) GROUP BY e.county_code, d.kind"
        ).fetchall():
            counts.setdefault(code, {})[kind] = n
    finally:
        con.close()
    return counts
