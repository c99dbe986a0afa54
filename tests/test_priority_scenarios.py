"""Ranking scenarios (tests/scenarios/priority/*.yaml): hand-checked TOPSIS results on small matrices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smecluster import yamlio
from smecluster.analytics import priority as k

FILES = sorted((Path(__file__).parent / "scenarios" / "priority").glob("*.yaml"))
CASES = [(f, case, yamlio.safe_load(f.read_text(encoding="utf-8")).get("tolerance", 1e-6))
         for f in FILES for case in yamlio.safe_load(f.read_text(encoding="utf-8"))["cases"]]


@pytest.mark.parametrize(("path", "case", "tol"), CASES, ids=[f"{p.stem}: {c['name']}" for p, c, _ in CASES])
def test_ranking_scenario(path, case, tol):
    """The kernel's path (fill, normalise, weigh, score, rank) gives the hand-checked figures."""
    matrix = np.array([[np.nan if v is None else v for v in row] for row in case["matrix"]], dtype=float)
    specs = case["indicators"]
    scored = k.score(matrix, [s["direction"] for s in specs], [s.get("normalisation", "minmax") for s in specs],
                     np.array(case["weights"], dtype=float))
    expect = case["expect"]
    assert np.isfinite(scored.topsis).all()
    assert np.allclose(scored.topsis, expect["topsis"], atol=tol, rtol=0), scored.topsis
    if "weighted_sum" in expect:
        assert np.allclose(scored.weighted_sum, expect["weighted_sum"], atol=tol, rtol=0)
    if "weights" in expect:
        assert np.allclose(scored.weights.combined, expect["weights"], atol=tol, rtol=0)
    if "constant" in expect:
        assert scored.normalised.constant.tolist() == expect["constant"]
    if "imputed" in expect:
        assert np.argwhere(scored.normalised.imputed).tolist() == expect["imputed"]
    assert k.ranks(scored.topsis).tolist() == expect["ranks"]
