"""Data of the targets and discovery pages: service results computed once per app, cut to a region.

The services (smecluster.services.targets, .tiers, .geography) do the work over the whole province;
this module keeps their results in a ComputedCache and selects the part a viewer's region may see.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Engine, select

from smecluster.registry.models import Region
from smecluster.reports.funnel import funnel_option, target_option
from smecluster.services.geography import candidates_geojson, discover_candidates
from smecluster.services.targets import target_progress
from smecluster.services.tiers import evaluate_enterprises, tier_names_on
from smecluster.web.page_cache import ComputedCache


class InsightCache:
    """Targets, tier counts per county and discovered candidates, each computed once per `ttl`."""

    def __init__(self, engine: Engine, ttl: float = 600.0) -> None:
        self.engine = engine
        self.targets = ComputedCache(lambda _key: self._targets(), ttl)
        self.candidates = ComputedCache(self._candidates, ttl)

    def _targets(self) -> dict[str, Any]:
        by_county = target_progress(self.engine, by="county")
        by_city = target_progress(self.engine, by="city")
        try:
            tiers = tier_counts_by_county(self.engine)
        except ValueError:  # no yearly figures: no funnel
            tiers = None
        return {"county": by_county, "city": by_city, "tiers": tiers}

    def _candidates(self, industry: str | None) -> list[dict[str, Any]]:
        found = discover_candidates(self.engine, industry=industry)
        if found.is_empty():
            return []
        names = county_names(self.engine)
        features = candidates_geojson(found.drop("member_uscc"))["features"]
        for f in features:
            f["properties"]["county_name"] = names.get(f["properties"]["county_code"], f["properties"]["county_code"])
        return features

    def invalidate(self) -> None:
        """Forget every result (after an import)."""
        self.targets.invalidate()
        self.candidates.invalidate()


def county_names(engine: Engine) -> dict[str, str]:
    """Region code -> name."""
    with engine.connect() as c:
        return dict(c.execute(select(Region.code, Region.name)).all())


def tier_counts_by_county(engine: Engine) -> pl.DataFrame:
    """Per county and tier: firms qualifying by rule (`q_<tier>`) and firms designated (`d_<tier>`)."""
    evaluation = evaluate_enterprises(engine)
    aggs = []
    for p in evaluation.tiers:
        aggs += [
            (pl.col(p.col("outcome")) >= 2).sum().alias(f"q_{p.tier}"),
            pl.col(f"designated_{p.tier}").sum().alias(f"d_{p.tier}"),
        ]
    return evaluation.frame().group_by("county_code").agg(aggs)


def targets_view(data: dict[str, Any], prefix: str) -> dict[str, Any]:
    """What the targets page shows to a viewer whose region codes start with `prefix`."""
    targets = []
    for county_entry, city_entry in zip(data["county"]["targets"], data["city"]["targets"], strict=True):
        counties = [r for r in county_entry["by_region"] if r["code"].startswith(prefix)]
        # firms registered directly under the province (a code ending 0000) are no city's
        cities = [r for r in city_entry["by_region"] if r["code"].startswith(prefix) and r["code"][2:4] != "00"]
        entry = {k: v for k, v in county_entry.items() if k != "by_region"}
        targets.append({**entry, "counties": counties, "cities": cities if len(prefix) <= 4 else [],
                        "chart": target_option(county_entry)})
    funnel = None
    tiers = data["tiers"]
    if tiers is not None:
        mine = tiers.filter(pl.col("county_code").str.starts_with(prefix)).drop("county_code").sum()
        row = mine.row(0, named=True) if mine.height else {}
        designated = {k[2:]: int(v or 0) for k, v in row.items() if k.startswith("d_")}
        qualifying = {k[2:]: int(v or 0) for k, v in row.items() if k.startswith("q_")}
        funnel = funnel_option(designated, qualifying, labels=tier_names_on(date.today()))
    return {"pack": data["county"]["pack"], "year": data["county"]["year"], "method": data["county"]["method"],
            "targets": targets, "funnel": funnel}
