"""The national view's figures, computed once per app and kept for a while (the province counts group a
whole registry; a province's national verdicts evaluate its recommended clusters)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from smecluster.web.page_cache import ComputedCache


class NationalCache:
    """The province comparison by year and each province's recommendation, on first use."""

    def __init__(self, engine: Engine, parquet: Path | None = None, ttl: float = 600.0) -> None:
        from smecluster.services.national import province_comparison, province_recommendation

        self.comparisons = ComputedCache(lambda year: province_comparison(engine, year, parquet), ttl)
        self.recommendations = ComputedCache(lambda province: province_recommendation(engine, province), ttl)

    def invalidate(self) -> None:
        """Forget every result (after a province confirmed its list, or new data)."""
        self.comparisons.invalidate()
        self.recommendations.invalidate()
